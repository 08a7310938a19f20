"""Aviary's ZooKeeper formats (src/zkformat) against a real Apache ZooKeeper
3.8, run fresh by this test (README.md):

(a) every txn ZooKeeper logged decodes and re-encodes byte for byte;
(b) replaying them on our tree gives, after every txn, the digest ZooKeeper
    logged with it;
(c) ZooKeeper's snapshot, read by us, is the tree kazoo saw;
(d) a snapshot written by us is loaded by a real ZooKeeper, which then
    serves the same tree to kazoo and reports no digest mismatch;
(e) `aviary-dump import` of ZooKeeper's dataDir, served by aviary-server,
    is the same tree to kazoo;
(f) the other way: the same workload run on aviary-server, its txns
    encoded by us as a ZooKeeper leader sends them (closeSession paths,
    our digest) and replayed by a real ZooKeeper, which checks every digest
    and then serves the tree Aviary served.
"""

import json
import os
import shutil
import subprocess

import pytest

import make_fixtures
import zkrun

BUILD = os.path.join(zkrun.REPO_ROOT, "build")
CHECK = os.environ.get("ZKFORMAT_CHECK") or os.path.join(BUILD, "tests", "zkformat", "zkformat_check")
DUMP = os.environ.get("AVIARY_DUMP") or os.path.join(BUILD, "aviary-dump")

# OpCodes (ZooDefs.OpCode) the workload must have made ZooKeeper log.
TOP_TYPES = {-11, -10, -1, 1, 2, 5, 7, 14, 15, 19, 20, 21}
MULTI_OP_TYPES = {-1, 1, 2, 5, 13}


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "%s failed: %s%s" % (args, p.stdout, p.stderr)
    return p.stdout


@pytest.fixture(scope="module")
def zk(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("zookeeper"))
    tree = make_fixtures.zookeeper_workload(out)
    with open(os.path.join(out, "session.txt")) as f:
        session = int(f.read())
    return {"dir": out, "data": os.path.join(out, "data"), "tree": tree, "session": session}


def newest_snapshot(data_dir):
    v2 = os.path.join(data_dir, "version-2")
    snaps = [f for f in os.listdir(v2) if f.startswith("snapshot.")]
    return os.path.join(v2, max(snaps, key=lambda f: int(f.split(".")[1], 16)))


def test_logged_txns_round_trip_and_digests_match(zk):
    summary = json.loads(run(CHECK, "logs", zk["data"]))
    assert summary["txns"] >= 35
    assert summary["digests"] >= summary["txns"] - 2  # failed single ops carry none
    assert TOP_TYPES <= set(summary["types"]), summary
    assert MULTI_OP_TYPES <= set(summary["sub_types"]), summary


def test_zookeeper_snapshot_reads_as_the_tree_kazoo_saw(zk):
    snap = json.loads(run(CHECK, "snapshot", newest_snapshot(zk["data"])))
    assert snap["has_digest"] and snap["digest_ok"]
    assert snap["nodes"] == zk["tree"]
    assert str(zk["session"]) in snap["sessions"]


def assert_served_tree(p, expected):
    got = zkrun.read_tree(p)
    assert sorted(got) == sorted(expected)
    for path in expected:
        assert got[path] == expected[path], path


def mntr(port):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"mntr")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return dict(line.split("\t", 1) for line in data.decode().splitlines() if "\t" in line)


def test_zookeeper_loads_a_snapshot_we_wrote(zk, tmp_path):
    out = str(tmp_path / "data")
    written = json.loads(run(CHECK, "write-snapshot", zk["data"], out))
    assert os.listdir(os.path.join(out, "version-2")) == ["snapshot.%x" % written["zxid"]]
    p = zkrun.start("zookeeper", str(tmp_path / "run"), out)
    try:
        assert_served_tree(p, zk["tree"])
        # ZooKeeper compares the digest section with its own at load.
        assert mntr(p.port)["zk_digest_mismatches_count"].strip() == "0"
    finally:
        p.kill()


def test_imported_datadir_is_served_by_aviary(zk, tmp_path):
    av = str(tmp_path / "aviary")
    report = run(DUMP, "import", zk["data"], av)
    assert "sessions: " in report
    p = zkrun.start("aviary", str(tmp_path / "run"), av)
    try:
        assert_served_tree(p, zk["tree"])
    finally:
        p.kill()


def test_zookeeper_replays_txns_aviary_made(tmp_path):
    av = str(tmp_path / "aviary")
    p = zkrun.start("aviary", str(tmp_path / "run-aviary"), av)
    try:
        z = zkrun.workload(p)
        aviary_tree = zkrun.read_tree(p)
        z.stop()  # closeSession with the ephemerals /a/eph, /m1/eph: paths filled by us
        z.close()
        after_close = zkrun.read_tree(p)
    finally:
        p.kill()
    assert "/a/eph" in aviary_tree and "/a/eph" not in after_close
    out = str(tmp_path / "zk")
    summary = json.loads(run(CHECK, "aviary-to-zk", av, out))
    assert summary["txns"] >= 35
    p = zkrun.start("zookeeper", str(tmp_path / "run-zk"), out)
    try:
        assert mntr(p.port)["zk_digest_mismatches_count"].strip() == "0"
        assert_served_tree(p, after_close)
    finally:
        p.kill()


def test_fuzzy_snapshots_under_load(tmp_path):
    """snapCount=20: ZooKeeper snapshots and rolls its log every ~10-20 txns
    while pipelined writes go on, so its snapshots are fuzzy. Every log
    still round-trips with matching digests, and both the import (Aviary)
    and our re-written snapshot (ZooKeeper) serve the tree kazoo saw."""
    out = str(tmp_path / "zk")
    # No restart: the newest snapshot is one ZooKeeper took during the churn.
    tree = make_fixtures.zookeeper_workload(out, extra={"snapCount": 20}, churn=True, restart=False)
    data = os.path.join(out, "data")
    v2 = os.listdir(os.path.join(data, "version-2"))
    assert len([f for f in v2 if f.startswith("snapshot.")]) > 5, v2
    assert len([f for f in v2 if f.startswith("log.")]) > 5, v2
    summary = json.loads(run(CHECK, "logs", data))
    assert summary["txns"] > 300
    av = str(tmp_path / "aviary")
    report = run(DUMP, "import", data, av)
    assert "txns replayed: 0," not in report  # the snapshot was not the final state
    p = zkrun.start("aviary", str(tmp_path / "run-aviary"), av)
    try:
        assert_served_tree(p, tree)
    finally:
        p.kill()
    rewritten = str(tmp_path / "rewritten")
    run(CHECK, "write-snapshot", data, rewritten)
    p = zkrun.start("zookeeper", str(tmp_path / "run-zk"), rewritten)
    try:
        assert_served_tree(p, tree)
        assert mntr(p.port)["zk_digest_mismatches_count"].strip() == "0"
    finally:
        p.kill()


def test_zookeeper_without_digests(tmp_path):
    """zookeeper.digest.enabled=false: txns carry no TxnDigest and snapshots
    no digest section; they still round-trip, read and import."""
    out = str(tmp_path / "zk")
    tree = make_fixtures.zookeeper_workload(out, jvm_props={"zookeeper.digest.enabled": "false"})
    data = os.path.join(out, "data")
    summary = json.loads(run(CHECK, "logs", data))
    assert summary["txns"] >= 35 and summary["digests"] == 0, summary
    snap = json.loads(run(CHECK, "snapshot", newest_snapshot(data)))
    assert snap["nodes"] == tree
    assert snap["has_digest"] is False
    av = str(tmp_path / "aviary")
    run(DUMP, "import", data, av)
    p = zkrun.start("aviary", str(tmp_path / "run"), av)
    try:
        assert_served_tree(p, tree)
    finally:
        p.kill()
