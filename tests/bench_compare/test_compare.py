"""bench/compare --quick against both servers: the tool's correctness (its
output's structure, numbers for both kinds, plots, cleanup), not timing."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPARE = os.path.join(REPO, "bench", "compare")
KINDS = ("aviary", "zookeeper")
# Every stage must measure, except that one may be skipped when the
# aviary-bench at hand lacks what it needs (the reason says so). failover is
# bench/failover.py's, with its own tests; it is left out here (its
# ensembles take a minute even at --quick sizes).
STAGES = ["throughput", "latency", "rates", "sweep", "ensemble", "znodes", "snapshot", "sessions"]


def env():
    e = dict(os.environ)
    for var, target in (("AVIARY_SERVER", "aviary-server"), ("AVIARY_BENCH", "aviary-bench")):
        if not e.get(var):
            e[var] = os.path.join(REPO, "build", target)
        if not os.access(e[var], os.X_OK):
            pytest.skip("%s not built (%s)" % (target, e[var]))
    return e


def server_pids(workdir):
    """Processes whose command line mentions the work directory (servers
    started by compare with a zoo.cfg inside it)."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if workdir in cmd and "bench/compare" not in cmd:
            pids.append(int(pid))
    return pids


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("compare")
    out, work = str(base / "out"), str(base / "work")
    os.makedirs(work)
    t0 = time.monotonic()
    # The rates stage with the generator placed (pinned, SCHED_FIFO when root): the options' path.
    p = subprocess.run([sys.executable, COMPARE, "--quick", "--skip", "failover", "--out", out, "--workdir", work,
                        "--bench-cpus", "auto", "--bench-rt-priority", "10"],
                       env=env(),
                       capture_output=True, text=True, timeout=540)
    with open(os.path.join(out, "results.json")) as f:
        res = json.load(f)
    return {"proc": p, "out": out, "work": work, "res": res, "seconds": time.monotonic() - t0}


def stages(run):
    return {s["name"]: s for s in run["res"]["stages"]}


def test_exit_and_every_stage_reported(quick_run):
    p = quick_run["proc"]
    assert p.returncode == 0, p.stderr[-4000:]
    names = [s["name"] for s in quick_run["res"]["stages"]]
    assert names == STAGES
    for s in quick_run["res"]["stages"]:
        assert s["status"] in ("ok", "skipped"), (s["name"], s["reason"])
        if s["status"] == "skipped":
            assert s["reason"].startswith("aviary-bench has no"), s["name"]
        assert s["seconds"] is not None and len(s["load_avg"]["start"]) == 3


def measured(run):
    return [s for s in run["res"]["stages"] if s["status"] == "ok"]


def test_both_kinds_measured(quick_run):
    st = {s["name"]: s for s in measured(quick_run)}
    assert {"throughput", "latency", "sweep", "ensemble", "znodes"} <= set(st)  # what any aviary-bench can do
    for name, s in st.items():
        assert s["rows"], name
        for kind in KINDS:
            assert any(r["kind"] == kind for r in s["raw"]) or name == "znodes" and s["rows"], (name, kind)
        for row in s["rows"]:
            if row["unit"] in ("ops/s", "MiB", "s"):
                for kind in KINDS:
                    v = row["median"][kind]
                    assert v is not None and v > 0, (name, row["measure"], kind, row["runs"])
                assert row["ratio"] == pytest.approx(row["median"]["aviary"] / row["median"]["zookeeper"])


def test_throughput_rows_and_raw_runs(quick_run):
    s = stages(quick_run)["throughput"]
    measures = [r["measure"] for r in s["rows"]]
    for w in ("get", "set", "mixed 90% reads", "exists", "create (growing tree)"):
        assert w in measures
    get = next(r for r in s["rows"] if r["measure"] == "get")
    assert get["target"] == {"applies_to": "ratio", "op": ">=", "value": 10}
    assert get["met"] in (True, False)
    for kind in KINDS:
        runs = [r for r in s["raw"] if r["kind"] == kind and r["workload"] == "get"]
        assert runs and all(r["ops_per_sec"] > 0 and r["errors"] == 0 for r in runs), runs
        assert all("p99" in r["latency_us"] and r["server_cpu_s"] > 0 for r in runs)


def test_large_tree_stage(quick_run):
    s = stages(quick_run)["znodes"]
    for kind in KINDS:
        # the quick tree (2000 znodes) plus the probe, the parents and the system nodes
        assert s["extra"]["node_count"][kind] >= 2000
    rows = {r["measure"]: r for r in s["rows"]}
    restart = rows["restart to first read (kill -9, exec to getData)"]
    assert all(len(restart["runs"][k]) == 1 for k in KINDS)


def test_open_loop_and_snapshot_and_sessions(quick_run):
    st = stages(quick_run)
    if st["rates"]["status"] == "ok":
        for w in ("get", "set", "mixed"):
            for kind in KINDS:
                pts = st["rates"]["extra"]["curves"][w][kind]
                assert pts and all(p["p99_us"] > 0 and p["rate"] > 0 for p in pts), (w, kind, pts)
        assert "latency_vs_load.png" in quick_run["res"]["meta"]["plots"]
    if st["snapshot"]["status"] == "ok":
        raw = st["snapshot"]["raw"]
        for kind in KINDS:
            labels = [r["label"] for r in raw if r["kind"] == kind]
            assert labels == ["snapshot warm-up", "snapshot steady", "snapshot snapshot"], labels
            snap = [r for r in raw if r["kind"] == kind and r["label"] == "snapshot snapshot"][0]
            assert snap["snapshots_started"] >= 1, (kind, snap)  # the window was sized to hold one
            assert snap["rate_target"] == quick_run["res"]["meta"]["options"]["snap_rate"]
    if st["sessions"]["status"] == "ok":
        rows = {r["measure"]: r for r in st["sessions"]["rows"]}
        held = rows["connections alive while holding 100 (mntr)"]
        assert held["median"] == {"aviary": 100, "zookeeper": 100}
        per = rows["RSS per idle session, 100 sessions"]
        assert all(len(per["runs"][k]) == 1 for k in KINDS), per
        for raw in st["sessions"]["raw"]:
            # opened over two threads, the server's RSS read before and while held
            assert raw["threads"] == 2 and raw["sessions"] == 100 and raw["lost_sessions"] == 0, raw
            assert raw["rss_before"] > 0 and raw["rss_held"] > 0, raw


def test_rates_generator_placed_alike(quick_run):
    # Every run at the fixed rates, of both kinds, has aviary-bench's load
    # thread placed the same way (by default: the normal scheduler, any CPU;
    # --bench-cpus / --bench-rt-priority), and the stage's notes say how.
    st = stages(quick_run)["rates"]
    if st["status"] != "ok":
        pytest.skip("rates stage: %s" % st["reason"])
    note = [n for n in st["notes"] if n.startswith("aviary-bench's load thread, both kinds alike")]
    assert len(note) == 1, st["notes"]
    opts = quick_run["res"]["meta"]["options"]
    fixed = [r for r in st["raw"] if r.get("rate") == {"get": opts["get_rate"], "set": opts["set_rate"]}.get(
        r["workload"])]
    assert {r["kind"] for r in fixed} == set(KINDS) and {r["workload"] for r in fixed} == {"get", "set"}, fixed
    placed = {(r.get("cpus"), r.get("rt_priority")) for r in fixed}
    assert len(placed) == 1, placed
    cpus, prio = placed.pop()
    want_prio = opts["bench_rt_priority"] if os.geteuid() == 0 else 0
    assert prio == want_prio, (cpus, prio)
    if (os.cpu_count() or 1) > 1:  # auto: the CPU with the fewest device interrupts
        assert cpus != "" and "pinned to CPU %s" % cpus in note[0], (cpus, note)
    if want_prio:
        assert "SCHED_FIFO priority %d" % want_prio in note[0], note


def test_sweep_points_for_both(quick_run):
    s = stages(quick_run)["sweep"]
    for kind in KINDS:
        assert sorted(int(p) for p in s["extra"]["sweep"][kind]) == [0, 50, 100]


def test_table_and_plots(quick_run):
    out = quick_run["out"]
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    assert [s["name"] for s in summary["stages"]] == STAGES
    assert all("raw" not in s and s["rows"] == r["rows"] for s, r in zip(summary["stages"], quick_run["res"]["stages"]))
    with open(os.path.join(out, "table.md")) as f:
        md = f.read()
    assert "### Targets of issue 10" in md and "| get (ops/s) |" in md
    assert "Measured on:" in quick_run["proc"].stdout
    for png in quick_run["res"]["meta"]["plots"]:
        with open(os.path.join(out, png), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "read_ratio_sweep.png" in quick_run["res"]["meta"]["plots"]
    assert "throughput_ratio.png" in quick_run["res"]["meta"]["plots"]


def test_nothing_left_behind(quick_run):
    work = quick_run["work"]
    assert os.listdir(work) == []  # the temp work dir is removed
    assert server_pids(work) == []


def test_ctrl_c_stops_servers(tmp_path):
    work = str(tmp_path / "work")
    os.makedirs(work)
    err_path = str(tmp_path / "stderr")
    with open(err_path, "w") as err:
        p = subprocess.Popen([sys.executable, COMPARE, "--quick", "--only", "throughput", "--seconds", "30",
                              "--out", str(tmp_path / "out"), "--workdir", work], env=env(),
                             stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(server_pids(work)) < 2 and p.poll() is None:
            time.sleep(0.2)
        with open(err_path) as f:
            assert len(server_pids(work)) >= 2, "both servers should be up: %s" % f.read()[-3000:]
        p.send_signal(signal.SIGINT)
        p.wait(timeout=60)
    finally:
        if p.poll() is None:  # a failed assertion: let compare clean up before anything harsher
            p.terminate()
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    time.sleep(0.5)
    assert server_pids(work) == []
    assert os.listdir(work) == []
    with open(os.path.join(str(tmp_path / "out"), "results.json")) as f:
        st = json.load(f)["stages"][0]
    assert st["name"] == "throughput" and st["status"] == "failed" and st["reason"].startswith("interrupted")
