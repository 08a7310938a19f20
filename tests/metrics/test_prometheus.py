"""/metrics as ZooKeeper 3.8's PrometheusMetricsProvider serves it, parsed by
python3-prometheus-client's text parser: the names the standard ZooKeeper
Grafana dashboard (10465) queries are there, with ZooKeeper's types, and
they move under load."""

import os
import socket
import time

import pytest
from kazoo.client import KazooClient

from support import AviaryServer, TESTDATA, read_names, scrape, value

# Names only a JVM has (the dashboard's JVM panels).
JVM_ONLY = {n for n in read_names(os.path.join(TESTDATA, "dashboard-10465-metrics.txt")) if n.startswith("jvm_")}
# Gauges ZooKeeper registers only in an ensemble (QuorumZooKeeperServer,
# LeaderZooKeeperServer): checked by test_ensemble_metrics.py.
ENSEMBLE_ONLY = {"quorum_size", "leader_uptime", "learners", "last_proposal_size", "max_proposal_size",
                 "min_proposal_size", "synced_non_voting_followers", "synced_observers"}
# Summary sets keyed by learner: no sample on a standalone server, in
# ZooKeeper too (ack_latency on a leader: test_ensemble_metrics.py).
UNFED_SETS = {"learner_handler_qp_size_sum", "ack_latency_sum"}


def dashboard_names():
    names = read_names(os.path.join(TESTDATA, "dashboard-10465-metrics.txt"))
    return [n for n in names if n not in JVM_ONLY | ENSEMBLE_ONLY | UNFED_SETS]


@pytest.fixture
def server():
    s = AviaryServer().start()
    yield s
    s.stop()


def load(zk, prefix, n):
    for i in range(n):
        zk.create("/load/%s%d" % (prefix, i), b"v" * i, makepath=True)
    for i in range(n):
        zk.get("/load/%s%d" % (prefix, i))
        zk.exists("/load/%s%d" % (prefix, i), watch=lambda e: None)
    for i in range(n):
        zk.set("/load/%s%d" % (prefix, i), b"w")  # fires the exists watches
    zk.get_children("/load")


def test_dashboard_metrics_present_typed_and_moving(server):
    zk = KazooClient(hosts=server.hostport(), timeout=10)
    zk.start(timeout=10)
    try:
        load(zk, "a", 30)
        text1, fam1, s1 = scrape(server.metrics_port)
        load(zk, "b", 30)
        zk.create("/eph", b"", ephemeral=True)
        time.sleep(0.2)
        text2, fam2, s2 = scrape(server.metrics_port)
    finally:
        zk.stop()
        zk.close()
    present = set(s2) | set(fam2)
    missing = [n for n in dashboard_names() if n not in present]
    assert not missing, "dashboard metrics missing from /metrics: %s" % missing

    # ZooKeeper's types (simpleclient 0.9: counters keep their own name, no
    # _total suffix, which is the name the dashboard queries).
    assert fam2["commit_count"].type == "counter"
    for name, fam in fam2.items():
        if fam.type == "counter":
            assert "\n%s " % name in text2, "counter %s not exposed under its own name" % name
    assert fam2["znode_count"].type == "gauge"
    assert fam2["fsynctime"].type == "summary"
    assert {s.labels.get("quantile") for s in fam2["fsynctime"].samples if s.name == "fsynctime"} == {"0.5"}
    assert {s.labels.get("quantile") for s in fam2["readlatency"].samples if s.name == "readlatency"} == \
        {"0.5", "0.9", "0.99"}

    # Sane values that follow the load.
    assert value(s2, "znode_count") >= 62  # /, /zookeeper..., /load, 60 nodes, /eph
    assert value(s2, "ephemerals_count") == 1
    assert value(s2, "num_alive_connections") >= 1
    assert value(s2, "global_sessions") >= 1
    assert value(s2, "packets_received") >= value(s1, "packets_received") + 120
    assert value(s2, "updatelatency_count") >= value(s1, "updatelatency_count") + 60
    assert value(s2, "readlatency_count") >= value(s1, "readlatency_count") + 60
    assert value(s2, "fsynctime_count") > value(s1, "fsynctime_count")
    assert value(s2, "bytes_received_count") > value(s1, "bytes_received_count")
    assert value(s2, "approximate_data_size") > value(s1, "approximate_data_size")
    assert value(s2, "write_per_namespace_count", key="load") >= value(s1, "write_per_namespace_count", key="load") + 60
    assert value(s2, "read_per_namespace_count", key="load") > value(s1, "read_per_namespace_count", key="load")
    assert value(s2, "node_changed_watch_count_count") >= 60
    assert value(s2, "uptime") >= value(s1, "uptime")
    assert value(s2, "dbinittime_count") == 1
    assert value(s2, "snapshottime_count") >= 1  # the snapshot at start
    lat = value(s2, "updatelatency", quantile="0.99")
    assert 0 <= lat < 10000
    assert value(s2, "max_latency") >= value(s2, "min_latency") >= 0
    # Aviary's own, beside ZooKeeper's.
    assert value(s2, "aviary_request_latency_us_count", key="create") >= 60
    assert fam2["aviary_request_latency_us"].type == "summary"
    # Thread placement (aviary.threadPlacement): counted whether or not this machine's disk allows it.
    confines, releases = value(s2, "aviary_thread_placement_confines"), value(s2, "aviary_thread_placement_releases")
    assert confines >= releases >= 0 and value(s2, "aviary_thread_placement_confined_ms") >= 0
    assert all(n.startswith("aviary_") or n in fam2 for n in fam2)  # parse sanity


def test_busy_port_is_logged_and_the_server_serves():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        s = AviaryServer(metrics_port=busy.getsockname()[1]).start()
        try:
            zk = KazooClient(hosts=s.hostport(), timeout=10)
            zk.start(timeout=10)
            zk.create("/still-serving", b"")
            zk.stop()
            zk.close()
            assert "cannot serve /metrics" in s.log_tail(20000)
        finally:
            s.stop()


def test_default_provider_opens_no_port():
    s = AviaryServer(provider=None).start()
    try:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", s.metrics_port), timeout=1).close()
    finally:
        s.stop()
