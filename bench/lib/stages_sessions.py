"""Per-idle-session memory: a fresh server per (count, kind), a short
warm-up, its RSS, then `aviary-bench --workload sessions --clients N --hold
-1 --threads 2` opens N sessions (handshakes in parallel, retried when one
fails), prints a `sessions_ready` line when all are up and holds them
(pinging) until its stdin closes; RSS again after a settle. The delta over N
is the cost of one idle session with its connection.

ZooKeeper's RSS is read after a GC settle, both before and while the
sessions are held: `jcmd PID GC.run` (a full collection, after which G1 also
gives back heap it no longer needs) and then the settle time, so that the
figure is live memory, not garbage the JVM has not collected yet."""

import os
import queue
import shutil
import subprocess
import threading
import time

from . import benchtool, procs, zkraw
from .results import KINDS, order

KIB = 1024.0


def _reader(stream, q):
    for line in stream:
        q.put(line)
    q.put(None)


def gc_settle(server, settle_s):
    """Waits settle_s; ZooKeeper: after a full GC (jcmd GC.run), when jcmd is there."""
    if server.kind == "zookeeper" and shutil.which("jcmd"):
        subprocess.run(["jcmd", str(server.proc.pid), "GC.run"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)
    time.sleep(settle_s)


def hold_sessions(ctx, server, n, settle_s):
    """(ready object, final object, rss before, rss while held, mntr while held)."""
    args = ["--clients", n, "--hold", -1]
    if "--threads" in ctx.bench.options:
        args += ["--threads", 2]
    cmd = ctx.bench.command(server.hostport(), "sessions", args)
    gc_settle(server, settle_s)
    rss0 = server.rss()
    err_path = os.path.join(ctx.workdir, "sessions-%d-%s.stderr" % (n, server.kind))  # survives the server's dir
    err = open(err_path, "w")
    p = procs.REGISTRY.add_proc(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                                 text=True, start_new_session=True))
    err.close()
    q = queue.Queue()
    threading.Thread(target=_reader, args=(p.stdout, q), daemon=True).start()
    ready, lines = None, []
    deadline = time.monotonic() + ctx.opts.sessions_timeout
    while ready is None and time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        lines.append(line)
        if "sessions_ready" in line:
            ready = (benchtool.parse_json_lines(line) or [{"line": line.strip()}])[0]
    try:
        if ready is None:
            with open(err_path) as f:
                tail = f.read()[-800:].strip()
            raise benchtool.BenchError("%d sessions on %s: no sessions_ready line (exit %s): %s %s"
                                       % (n, server.kind, p.poll(), "".join(lines)[-800:], tail))
        gc_settle(server, settle_s)
        rss1 = server.rss()
        mntr = zkraw.four_letter(server.port, "mntr", timeout_s=30)
        p.stdin.close()
        p.wait(timeout=120)
    finally:
        procs.kill_group(p)
    while True:
        line = q.get(timeout=5)
        if line is None:
            break
        lines.append(line)
    rows = benchtool.parse_json_lines("".join(lines))
    final = [r for r in rows if r.get("event") != "sessions_ready"]
    return ready, (final[-1] if final else {}), rss0, rss1, mntr


def alive_connections(mntr):
    """mntr's zk_num_alive_connections minus mntr's own connection."""
    for line in mntr.splitlines():
        if line.startswith("zk_num_alive_connections"):
            return int(line.split()[1]) - 1
    return None


def stage_sessions(ctx, stage):
    why = ctx.bench.missing("sessions", ["--hold"])
    if why:
        stage.skip(why)
        return
    o = ctx.opts
    for n in o.sessions:
        per, held, conn_s = {k: [] for k in KINDS}, {k: [] for k in KINDS}, {k: [] for k in KINDS}
        for kind in order(0):
            pair_dir = "sessions-%d-%s" % (n, kind)
            server = ctx.start_pair(pair_dir, kinds=[kind], shareable=True)[kind]
            try:
                ctx.warm([server])
                ready, final, rss0, rss1, mntr = hold_sessions(ctx, server, n, o.sessions_settle)
            except benchtool.BenchError as e:
                stage.note(str(e))
                continue
            finally:
                ctx.stop_pair({kind: server})
            got = ready.get("sessions", n)
            per[kind].append((rss1 - rss0) / max(1, got) / KIB)
            held[kind].append(alive_connections(mntr) or got)
            conn_s[kind].append(ready.get("connect_s"))
            stage.add_raw(kind, {"label": "sessions", "sessions_target": n},
                          [dict(final, ready=ready, rss_before=rss0, rss_held=rss1,
                                alive_connections=alive_connections(mntr))])
        stage.row("RSS per idle session, %d sessions" % n, "KiB", "lower", per, ("ratio", "<=", 0.1))
        stage.row("connections alive while holding %d (mntr)" % n, "count", "higher", held,
                  ("aviary", ">=", n) if n == max(o.sessions) else None)
        stage.row("time to open %d sessions" % n, "s", "lower", conn_s)
    stage.note("RSS per session = (RSS holding N idle sessions - RSS before) / N, each read %.1f s after the "
               "sessions were up; ZooKeeper's after a full GC (jcmd GC.run) before each reading" % o.sessions_settle)
