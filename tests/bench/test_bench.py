"""aviary-bench smoke tests: every workload briefly against a fresh
aviary-server, asserting the tool's own correctness checks (not timing)."""

import ctypes
import json
import os
import re
import resource
import socket
import subprocess
import sys
import threading
import time

import pytest
from kazoo.client import KazooClient

from conftest import REPO, assert_clean, bench_binary, run_bench, start_target

SHORT = ["--seconds", "1", "--warmup", "0.2", "--clients", "4", "--depth", "4"]


@pytest.fixture(scope="module")
def zk(server):
    c = KazooClient(hosts=server.hostport, timeout=10)
    c.start(timeout=20)
    yield c
    c.stop()
    c.close()


def test_self_test_checks_histogram_percentiles(bench):
    p = subprocess.run([bench, "--self-test"], stdout=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 0, p.stdout
    assert "PASSED: 0 failure(s)" in p.stdout
    assert "ok   bimodal 50us / 60s" in p.stdout


def test_help_documents_every_flag_and_workload(bench):
    text = subprocess.run([bench, "--help"], stdout=subprocess.PIPE, text=True, timeout=10).stdout
    for flag in ("--workload", "--rate", "--parents", "--children", "--multi-ops", "--watchers", "--changes",
                 "--hold", "--sweep-step", "--progress", "--no-progress", "--read-pct", "--threads", "--json", "--io",
                 "--compare", "--self-test", "--reply-at", "--cpus", "--rt-priority"):
        assert flag in text, flag
    for w in ("get", "exists", "set", "mixed", "create", "create-delete", "delete", "children", "multi", "watch",
              "churn", "sessions", "sweep"):
        assert re.search(r"(^|[ |])%s( |$)" % re.escape(w), text, re.M), w


@pytest.mark.parametrize("workload", ["get", "exists", "set", "mixed", "create-delete"])
def test_closed_loop_workload(server, workload):
    (run,) = run_bench(server.hostport, "--workload", workload, *SHORT)
    assert_clean(run)
    assert run["workload"] == workload and run["mode"] == "closed" and run["late"] == 0


def uring_works():
    """Whether this kernel lets a process set up an io_uring (io_uring_setup, syscall 425 on x86-64)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(425, 8, ctypes.create_string_buffer(120))
    if fd < 0:
        return False
    os.close(fd)
    return True


@pytest.mark.parametrize("io", ["auto", "epoll"])
@pytest.mark.parametrize("workload", ["get", "multi"])
def test_both_io_loops_check_replies(server, io, workload):
    (run,) = run_bench(server.hostport, "--workload", workload, "--io", io, *SHORT)
    assert_clean(run)
    assert run["io"] == ("io_uring" if io == "auto" and uring_works() else "epoll"), run


def test_create_spreads_over_parents(server, zk):
    (run,) = run_bench(server.hostport, "--workload", "create", "--parents", 5, "--root", "/t_create", *SHORT)
    assert_clean(run)
    assert run["parents"] == 5
    (top,) = zk.get_children("/t_create")
    counts = [zk.get("/t_create/%s/p%d" % (top, i))[1].numChildren for i in range(5)]
    assert min(counts) > 0 and sum(counts) >= run["ops"], counts


def test_create_delete_leaves_tree_steady(server, zk):
    (run,) = run_bench(server.hostport, "--workload", "create-delete", "--root", "/t_cd", *SHORT)
    assert_clean(run)
    (top,) = zk.get_children("/t_cd")
    assert zk.get_children("/t_cd/" + top) == []


def test_delete_measures_exactly_the_precreated_nodes(server, zk):
    (run,) = run_bench(server.hostport, "--workload", "delete", "--ops", 2000, "--root", "/t_del", *SHORT)
    assert_clean(run)
    assert run["ops"] == 2000
    (top,) = zk.get_children("/t_del")
    assert zk.get_children("/t_del/" + top) == []


def test_children_checks_the_list(server):
    (run,) = run_bench(server.hostport, "--workload", "children", "--children", 50, *SHORT)
    assert_clean(run)
    assert run["children"] == 50


def test_multi_counts_ops_inside(server):
    (run,) = run_bench(server.hostport, "--workload", "multi", "--multi-ops", 3, *SHORT)
    assert_clean(run)
    assert run["ops_in_multis"] == 3 * run["ops"]


@pytest.mark.parametrize("workload", ["get", "set", "create"])
def test_open_loop_holds_target_rate(server, workload):
    (run,) = run_bench(server.hostport, "--workload", workload, "--rate", 500, "--clients", 4, "--seconds", 3,
                       "--warmup", 0.3)
    assert_clean(run)
    assert run["mode"] == "open" and run["rate_target"] == 500
    assert 400 <= run["rate_achieved"] <= 600, run
    assert 1200 <= run["ops"] <= 1800, run
    assert 0 <= run["late"] <= run["ops"], run  # late depends on CPU load; see the next test


def test_open_loop_measures_from_schedule(server):
    # 1 session, 1 in flight, a rate no server reaches: the backlog grows, so
    # latency from the scheduled time reaches hundreds of ms (a tool measuring
    # from the actual send would report the round trip) and nearly all are late.
    (run,) = run_bench(server.hostport, "--workload", "get", "--rate", 200000, "--clients", 1, "--depth", 1,
                       "--seconds", 1, "--warmup", 0)
    assert_clean(run)
    assert run["rate_achieved"] < 0.5 * run["rate_target"]
    assert run["latency_us"]["p99"] > 200000, run
    assert run["late"] >= 0.9 * run["ops"], run
    # That lateness is the depth cap's (each request waits for the reply
    # before it), not the generator's own: send_lag = cap_wait + gen_lag.
    lag, cap, own = run["send_lag_us"], run["cap_wait_us"], run["gen_lag_us"]
    assert cap["p99"] > 200000 and own["p50"] < 0.1 * lag["p50"], run
    assert abs(lag["mean"] - cap["mean"] - own["mean"]) <= 1, run
    assert lag["count"] == cap["count"] == own["count"] == run["ops"], run


def test_open_loop_below_the_cap_has_no_cap_wait(server):
    (run,) = run_bench(server.hostport, "--workload", "set", "--rate", 500, "--clients", 4, "--depth", 8,
                       "--seconds", 1, "--warmup", 0.2)
    assert_clean(run)
    # 8 in flight per session at 125/s each: the cap would need 64 ms replies
    # (a loaded machine may get there for a moment: not at the median)
    lag, cap, own = run["send_lag_us"], run["cap_wait_us"], run["gen_lag_us"]
    assert cap["p50"] == 0 and own["p50"] <= lag["p50"], run
    assert own["count"] == run["ops"] and abs(lag["mean"] - cap["mean"] - own["mean"]) <= 1, run


def test_open_loop_epoll_splits_the_reply_side(server):
    # The epoll loop takes each reply's kernel receive timestamp: the
    # generator's lateness in reading it (reply_lag) and the latency up to
    # its arrival, which is never more than the latency up to the read.
    (run,) = run_bench(server.hostport, "--workload", "get", "--rate", 1000, "--clients", 4, "--seconds", 1,
                       "--warmup", 0.2, "--io", "epoll")
    assert_clean(run)
    assert run["io"] == "epoll"
    for key in ("reply_lag_us", "arrival_latency_us"):
        assert run[key]["count"] >= 0.99 * run["ops"], run  # a read without a stamp counts in neither
    assert run["arrival_latency_us"]["p50"] <= run["latency_us"]["p50"] * 1.01, run
    assert run["arrival_latency_us"]["max"] <= run["latency_us"]["max"] * 1.01, run


def test_open_loop_reply_at_arrival(server):
    # --reply-at arrival: the latency ends at the reply's arrival; the
    # generator wakes only for its slots, so replies wait in the socket
    # (reply_lag) without counting, and the rate still holds.
    (run,) = run_bench(server.hostport, "--workload", "get", "--rate", 500, "--clients", 4, "--seconds", 2,
                       "--warmup", 0.2, "--reply-at", "arrival")
    assert_clean(run)
    assert run["io"] == "epoll"
    assert 400 <= run["rate_achieved"] <= 600, run
    assert run["arrival_latency_us"]["count"] >= 0.99 * run["ops"], run
    assert abs(run["latency_us"]["p50"] - run["arrival_latency_us"]["p50"]) <= 0.01 * run["latency_us"]["p50"] + 1
    # a reply is read at the next slot (every 2 ms here), not when it came
    assert run["reply_lag_us"]["p50"] > 100, run


def test_open_loop_tail_split_and_request_log_line_up_with_the_server_trace(tmp_path):
    # An Aviary traced with the write split and every write noted as slow
    # (AVIARY_LATENCY_TRACE_SLOW_US=1): aviary-bench's tail split adds up to
    # its slowest requests' latency, its --request-log holds every measured
    # request, the trace splits every write, and tail_timeline.py reads both.
    trace = str(tmp_path / "trace.json")
    log = str(tmp_path / "requests.txt")
    saved = {k: os.environ.get(k) for k in ("AVIARY_LATENCY_TRACE", "AVIARY_LATENCY_TRACE_SLOW_US")}
    os.environ.update(AVIARY_LATENCY_TRACE=trace, AVIARY_LATENCY_TRACE_SLOW_US="1")
    try:
        srv = start_target("aviary")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        (run,) = run_bench(srv.hostport, "--workload", "set", "--rate", 1000, "--clients", 4, "--seconds", 1,
                           "--warmup", 0.2, "--io", "epoll", "--request-log", log)
        assert_clean(run)
        t = run["tail_split_us"]
        assert t["count"] >= 0.01 * run["ops"] and t["from"] <= run["latency_us"]["max"] * 1.01, run
        parts = t["cap_wait"] + t["gen_lag"] + t["to_arrival"] + t["reply_lag"]
        assert abs(parts - t["latency"]) <= 0.01 * t["latency"] + 1, t
        with open(log) as f:
            lines = [ln.split() for ln in f if not ln.startswith("#")]
        assert len(lines) == run["ops"], (len(lines), run["ops"])
        assert all(len(v) == 7 and int(v[0]) <= int(v[2]) <= int(v[4]) for v in lines[:100]), lines[:3]
        time.sleep(1.5)  # the trace file is rewritten once a second
        with open(trace) as f:
            tr = json.load(f)
        writes = tr["w_total"]["count"]
        assert writes >= run["ops"], (writes, run["ops"])  # and the setup's writes
        assert sum(r[1] for r in tr["write_split"]["rows"]) == writes
        assert tr["slow_writes"]["noted"] == writes and tr["slow_writes"]["min_us"] == 1
        p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "lib", "tail_timeline.py"), log, trace],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and "episodes" in p.stdout, p.stdout + p.stderr
        p = subprocess.run([sys.executable, os.path.join(REPO, "bench", "lib", "latency_trace.py"), trace],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and "w_total" in p.stdout and "writes at or above p99" in p.stdout, p.stdout
    finally:
        srv.stop()


def test_request_log_needs_the_open_loop(server):
    p = subprocess.run([bench_binary(), "--servers", server.hostport, "--request-log", "/tmp/x"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--request-log needs the open loop" in p.stderr, p.stderr


def test_reply_at_arrival_needs_the_open_loop(server):
    p = subprocess.run([bench_binary(), "--servers", server.hostport, "--reply-at", "arrival"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--reply-at arrival needs the open loop" in p.stderr, p.stderr


def thread_states(pid):
    """{tid: (policy, rt_priority, Cpus_allowed_list)} of a live process's threads."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                cpus = [x.split(":", 1)[1].strip() for x in f if x.startswith("Cpus_allowed_list:")][0]
        except (OSError, IndexError):
            continue
        # stat fields after the command: index 0 is field 3; rt_priority is field 40, policy 41
        out[int(tid)] = (int(fields[38]), int(fields[37]), cpus)
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="SCHED_FIFO needs root")
def test_load_threads_pinned_and_fifo(server):
    # --cpus / --rt-priority: the load threads (not the main thread) run
    # SCHED_FIFO (policy 1) at the priority asked, on the CPUs asked, and the
    # JSON says so; the run itself is unchanged.
    cmd = [bench_binary(), "--servers", server.hostport, "--json", "--no-progress", "--workload", "get", "--rate",
           500, "--clients", 4, "--threads", 2, "--seconds", 2, "--warmup", 0.3, "--cpus", "0",
           "--rt-priority", 7]
    p = subprocess.Popen([str(a) for a in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = {}
    deadline = time.time() + 2
    while time.time() < deadline and p.poll() is None:
        for tid, st in thread_states(p.pid).items():
            if st[0] == 1:
                seen[tid] = st
        time.sleep(0.05)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    (run,) = [json.loads(x) for x in out.splitlines() if x.strip()]
    assert_clean(run)
    assert run["cpus"] == "0" and run["rt_priority"] == 7, run
    assert 400 <= run["rate_achieved"] <= 600, run
    assert len(seen) == 2 and all(st == (1, 7, "0") for st in seen.values()), seen  # the two load threads


def test_load_threads_default_placement_is_reported(server):
    (run,) = run_bench(server.hostport, "--workload", "get", *SHORT)
    assert run["cpus"] == "" and run["rt_priority"] == 0, run


@pytest.mark.parametrize("args,message", [
    (["--cpus", "x"], "bad value for --cpus"),
    (["--cpus", "3-1"], "bad value for --cpus"),
    (["--cpus", "0,0"], "bad value for --cpus"),
    (["--rt-priority", "100"], "bad value for --rt-priority"),
    (["--workload", "watch", "--cpus", "0"], "--cpus and --rt-priority apply to the request workloads"),
    (["--rate", "100", "--spin-us", "50", "--rt-priority", "5"], "--spin-us does not go with --rt-priority"),
])
def test_placement_usage_errors(server, args, message):
    p = subprocess.run([bench_binary(), "--servers", server.hostport] + args, capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2 and message in p.stderr, p.stderr


def test_placement_on_a_cpu_that_is_not_there(server):
    p = subprocess.run([bench_binary(), "--servers", server.hostport, "--json", "--cpus", "1000"] + SHORT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "--cpus 1000:" in p.stderr, p.stderr
    assert p.stdout == ""


def test_watch_fan_out_delivers_every_change(server):
    (run,) = run_bench(server.hostport, "--workload", "watch", "--watchers", 20, "--changes", 40)
    assert run["ops"] == 40 and run["changes"] == 40
    assert run["missed"] == 0 and run["errors"] == 0 and run["bad_replies"] == 0, run
    assert run["notify_us"]["count"] == 40
    assert run["delivery_us"]["count"] == 40 * 20
    assert run["delivery_us"]["max"] <= run["notify_us"]["max"] * 1.01
    assert 0 < run["notify_us"]["p50"] <= run["notify_us"]["p99"]


def test_churn_leaves_no_ephemerals(server, zk):
    (run,) = run_bench(server.hostport, "--workload", "churn", "--root", "/t_churn", *SHORT)
    assert_clean(run)
    assert run["cycles"] == run["ops"] and run["leftover"] == 0
    (top,) = zk.get_children("/t_churn")
    assert zk.get_children("/t_churn/" + top) == []


def alive_connections(srv):
    for line in srv.four_letter("mntr").splitlines():
        k, _, v = line.partition("\t")
        if k == "zk_num_alive_connections":
            return int(v)
    raise AssertionError("no zk_num_alive_connections in mntr")


def test_sessions_are_held_until_stdin_eof(server):
    n = 300
    before = alive_connections(server)
    p = subprocess.Popen([bench_binary(), "--servers", server.hostport, "--json", "--no-progress",
                          "--workload", "sessions", "--clients", str(n), "--hold", "-1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(p.stdout.readline())
        assert ready["event"] == "sessions_ready" and ready["sessions"] == n
        assert alive_connections(server) >= before + n
        time.sleep(1.5)  # held, idle: still all there
        assert alive_connections(server) >= before + n
        out, err = p.communicate(timeout=60)  # closes stdin: EOF ends the hold
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    (run,) = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert run["sessions"] == n and run["lost_sessions"] == 0 and run["connect_s"] > 0
    deadline = time.monotonic() + 10
    while alive_connections(server) > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive_connections(server) <= before


def test_sessions_hold_seconds(server):
    ready, run = run_bench(server.hostport, "--workload", "sessions", "--clients", 50, "--hold", 0.5)
    assert ready["event"] == "sessions_ready" and ready["sessions"] == 50
    assert run["sessions"] == 50 and run["lost_sessions"] == 0


def hold_until_eof(hostport, n, *args):
    """Starts aviary-bench holding n sessions (--hold -1); returns (process, ready object)."""
    p = subprocess.Popen([bench_binary(), "--servers", hostport, "--json", "--no-progress", "--workload", "sessions",
                          "--clients", str(n), "--hold", "-1"] + [str(a) for a in args],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line:
        p.kill()
        raise AssertionError("no sessions_ready line: %s" % p.stderr.read())
    return p, json.loads(line)


def finish_hold(p):
    """Closes stdin (ends the hold); returns the final result object."""
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    (run,) = [json.loads(line) for line in out.splitlines() if line.strip()]
    return run


def test_sessions_with_threads_reach_n_and_hold_them(server):
    n = 1500
    before = alive_connections(server)
    p, ready = hold_until_eof(server.hostport, n, "--threads", 4)
    try:
        assert ready["sessions"] == n
        assert alive_connections(server) >= before + n
        time.sleep(1.5)
        assert alive_connections(server) >= before + n
        run = finish_hold(p)
    finally:
        if p.poll() is None:
            p.kill()
    assert run["threads"] == 4 and run["sessions"] == n and run["lost_sessions"] == 0 and run["retries"] == 0
    assert run["latency_us"]["count"] == n  # one handshake latency per session


class FlakyProxy:
    """A loopback TCP proxy to `port` that drops every `every`-th connection
    at once (before any byte): a server refusing some handshakes."""

    def __init__(self, port, every):
        self.port, self.every, self.accepted = port, every, 0
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(1024)
        self.hostport = "127.0.0.1:%d" % self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.accepted % self.every == 0:
                c.close()
                continue
            s = socket.create_connection(("127.0.0.1", self.port))
            for a, b in ((c, s), (s, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for x in (a, b):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.lsock.close()


def test_sessions_retry_failed_handshakes(server):
    proxy = FlakyProxy(server.port, every=4)
    try:
        ready, run = run_bench(proxy.hostport, "--workload", "sessions", "--clients", 40, "--hold", 0.3,
                               "--threads", 2)
    finally:
        proxy.close()
    assert ready["sessions"] == 40 and run["sessions"] == 40 and run["lost_sessions"] == 0
    # every 4th connection was dropped: those handshakes were dialed again
    assert run["retries"] >= 40 // 4, run
    assert proxy.accepted == 40 + run["retries"]


def test_sessions_report_a_too_low_file_limit(server):
    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    p = subprocess.run([bench_binary(), "--servers", server.hostport, "--json", "--no-progress", "--workload",
                        "sessions", "--clients", "100", "--hold", "0"], preexec_fn=low_limit,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert p.returncode == 1 and "open-file limit (64) is too low for 100 sessions" in p.stderr, p.stderr


def test_sweep_gives_eleven_steps(server):
    runs = run_bench(server.hostport, "--workload", "sweep", "--seconds", "0.3", "--warmup", "0", "--clients", 2,
                     "--depth", 2, "--keys", 50, timeout=90)
    assert [r["read_pct"] for r in runs] == list(range(0, 101, 10))
    for r in runs:
        assert_clean(r)
        assert r["workload"] == "sweep" and r["payload"] == 1024


def test_progress_goes_to_stderr_only(server):
    cmd = [bench_binary(), "--servers", server.hostport, "--json", "--progress", "--workload", "get",
           "--seconds", "2.2", "--warmup", "0", "--clients", "2"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "[   1s] get: ops" in p.stderr and "p99" in p.stderr
    (run,) = [json.loads(line) for line in p.stdout.splitlines()]
    assert_clean(run)


def test_against_zookeeper_38(bench):
    if not os.path.exists("/usr/share/java/zookeeper.jar"):
        pytest.skip("Apache ZooKeeper (Debian package) not installed")
    srv = start_target("zookeeper")
    try:
        for w in ("get", "set"):
            (run,) = run_bench(srv.hostport, "--workload", w, *SHORT)
            assert_clean(run)
        ready, run = run_bench(srv.hostport, "--workload", "sessions", "--clients", 500, "--threads", 2,
                               "--hold", 0.5)
        assert ready["sessions"] == 500 and run["sessions"] == 500 and run["lost_sessions"] == 0
    finally:
        srv.stop()


def test_wrong_replies_are_counted_as_bad(server, zk):
    # The checks must bite: a key whose data is not the payload, and a parent
    # with one child more than --children, make every reply bad (exit 1).
    run_bench(server.hostport, "--workload", "get", "--root", "/t_bad", "--keys", 1, "--ops", 10, "--warmup", 0)
    zk.set("/t_bad/keys-100/k0", b"not the payload")
    (run,) = run_bench(server.hostport, "--workload", "get", "--root", "/t_bad", "--keys", 1, "--ops", 200,
                       "--warmup", 0, "--clients", 2, expect_rc=1)
    assert run["ops"] == 200 and run["bad_replies"] == 200 and run["errors"] == 0, run
    run_bench(server.hostport, "--workload", "children", "--root", "/t_bad", "--children", 5, "--ops", 10,
              "--warmup", 0)
    zk.create("/t_bad/children-5/extra")
    (run,) = run_bench(server.hostport, "--workload", "children", "--root", "/t_bad", "--children", 5, "--ops", 200,
                       "--warmup", 0, "--clients", 2, expect_rc=1)
    assert run["ops"] == 200 and run["bad_replies"] == 200, run
