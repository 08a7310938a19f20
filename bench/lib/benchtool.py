"""Runs aviary-bench (tools/bench) and reads its --json lines.

The options bench/compare uses are those of aviary-bench's contract (issue
10 item 1): --workload get|exists|set|create|create-delete|delete|children|
multi|mixed|watch|churn|sessions|sweep, --rate R (open loop), --parents K,
--children N, --multi-ops N, --hold S, --sweep-step, --json (one object per
run, or per sweep step). What the binary at hand supports is read from its
--help, so a stage that needs something missing is skipped with the reason
instead of failing the run.
"""

import json
import re
import subprocess

from . import servers

KNOWN_WORKLOADS = ("get", "exists", "set", "mixed", "create", "create-delete", "delete", "children", "multi",
                   "watch", "churn", "sessions", "sweep")


def help_workloads(text):
    """The workloads a --help text offers: either a `--workload W  a|b|c`
    list, or one workload (or `a | b | c`) at the start of an indented line."""
    found = set()
    m = re.search(r"--workload\s+\S+\s+([a-z|-]+)", text)
    if m and "|" in m.group(1):
        found |= set(m.group(1).split("|"))
    for line in text.splitlines():
        head = re.match(r"\s+((?:[a-z-]+ \| )*[a-z-]+)(\s|$)", line)
        if head:
            found |= {w for w in head.group(1).split(" | ") if w in KNOWN_WORKLOADS}
    return found


class BenchError(RuntimeError):
    pass


class Bench:
    def __init__(self, path):
        self.path = path
        out = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30)
        self.help = out.stdout + out.stderr
        self.workloads = help_workloads(self.help)
        self.options = set(re.findall(r"(--[a-z][a-z0-9-]*)", self.help))

    def missing(self, workload=None, options=()):
        """None when this aviary-bench can run it, else the reason."""
        if workload is not None and workload not in self.workloads:
            return "aviary-bench has no --workload %s (it knows: %s)" % (workload, "|".join(sorted(self.workloads)))
        lacking = [o for o in options if o not in self.options]
        if lacking:
            return "aviary-bench has no %s" % ", ".join(lacking)
        return None

    def command(self, hosts, workload, args):
        return [self.path, "--servers", hosts, "--workload", workload, "--json"] + [str(a) for a in args]

    def run(self, hosts, workload, args, timeout_s):
        """Runs one invocation; returns the list of JSON objects it printed
        (one per run, or one per sweep step)."""
        cmd = self.command(hosts, workload, args)
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise BenchError("timed out after %d s: %s" % (timeout_s, " ".join(cmd))) from e
        rows = parse_json_lines(out.stdout)
        # Exit 1 with results: lost sessions, bad replies or leftovers, which
        # the results count; the rows are kept and carry the exit status.
        if out.returncode not in (0, 1) or not rows:
            raise BenchError("%s failed (%d): %s" % (" ".join(cmd), out.returncode, out.stderr.strip()[-1500:]))
        for r in rows:
            r["exit_status"] = out.returncode
        return rows


def parse_json_lines(text):
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass
    return rows


def measured(bench, target, workload, args, timeout_s):
    """One run against `target` (a Server or an ensemble target: .hosts(),
    .pids()), with the server processes' CPU time over the invocation added
    as server_cpu_s and server_cpu_us_per_op (every op of the invocation,
    warm-up included, estimated as ops_per_sec x (elapsed_s + warmup)), and
    aviary-bench's own as client_cpu_us_per_op (its client_cpu_s over the
    same estimate)."""
    pids = target.pids()
    cpu0 = sum(servers.cpu_seconds(p) for p in pids)
    rows = bench.run(target.hostport(), workload, args, timeout_s)
    cpu = sum(servers.cpu_seconds(p) for p in pids) - cpu0
    for r in rows:
        r["server_cpu_s"] = round(cpu, 3)
    if len(rows) == 1:
        r = rows[0]
        ops = r.get("ops_per_sec", 0) * (r.get("elapsed_s", 0) + r.get("warmup", 0))
        r["server_cpu_us_per_op"] = round(cpu / ops * 1e6, 2) if ops > 0 else None
        # aviary-bench's own CPU over the same span (its load threads: warm-up, window, drain)
        client = r.get("client_cpu_s")
        r["client_cpu_us_per_op"] = round(client / ops * 1e6, 2) if ops > 0 and client is not None else None
    return rows
