"""An all-Aviary ensemble (3 voters + 1 observer) with the Prometheus
provider on every member: each role's mntr covers the keys ZooKeeper 3.8
prints in that role (captured in testdata/), with the ensemble keys
(zk_peer_state, zk_quorum_size, zk_learners, zk_synced_followers,
zk_pending_syncs; and 3.4's zk_followers, which 3.8 no longer prints), and the leader's /metrics has
the dashboard's quorum figures, moving with writes."""

import os
import sys
import time

import pytest
from kazoo.client import KazooClient

from support import HERE, PROMETHEUS_PROVIDER, free_port, four_letter, mntr_lines, scrape, value
from test_mntr import assert_covers, assert_no_extras, check_zookeeper_parse, zookeeper_keys

sys.path.insert(0, os.path.join(HERE, "..", "ensemble"))
import ensemble  # noqa: E402


@pytest.fixture(scope="module")
def ens():
    e = ensemble.Ensemble(["aviary", "aviary", "aviary"], observers=["aviary"],
                          extra_cfg={"metricsProvider.className": PROMETHEUS_PROVIDER,
                                     "metricsProvider.httpHost": "127.0.0.1"})
    for m in e.members:
        m.metrics_port = free_port()
        m.extra_cfg["metricsProvider.httpPort"] = str(m.metrics_port)
    try:
        e.start(timeout=90)
        yield e
    finally:
        e.stop()


def write(e, n, prefix):
    c = KazooClient(hosts=e.connect_string(e.voters()), timeout=10)
    c.start(timeout=20)
    try:
        for i in range(n):
            c.create("/m/%s%d" % (prefix, i), b"x", makepath=True)
        c.get("/m/%s0" % prefix)
    finally:
        c.stop()
        c.close()


def by_role(e):
    roles = {}
    for m in e.members:
        roles.setdefault(m.mode(), []).append(m)
    return roles


def test_each_role_covers_zookeeper_keys(ens):
    write(ens, 5, "k")
    roles = by_role(ens)
    assert set(roles) >= {"leader", "follower", "observer"}, roles
    for role in ("leader", "follower", "observer"):
        m = roles[role][0]
        deadline = time.monotonic() + 10
        while True:  # the write reaches the observer asynchronously
            text = four_letter(m.client_port, "mntr")
            p = check_zookeeper_parse(text)
            if p.get("zk_cnt_m_write_per_namespace", 0) >= 5 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert_covers(zookeeper_keys(role), [k for k, _ in mntr_lines(text)], role)
        assert_no_extras(zookeeper_keys(role), [k for k, _ in mntr_lines(text)], role)
        assert p["zk_server_state"] == role
        assert p["zk_quorum_size"] == 3
    leader = check_zookeeper_parse(four_letter(roles["leader"][0].client_port, "mntr"))
    assert leader["zk_peer_state"] == "leading - broadcast"
    assert leader["zk_learners"] == 3
    assert leader["zk_followers"] == 3  # ZooKeeper 3.4's key (3.8 prints only zk_learners), an Aviary extra
    assert leader["zk_synced_followers"] == 2
    assert leader["zk_synced_observers"] == 1
    assert leader["zk_pending_syncs"] == 0
    assert leader["zk_leader_uptime"] > 0
    observer = check_zookeeper_parse(four_letter(roles["observer"][0].client_port, "mntr"))
    assert observer["zk_peer_state"] == "observing - broadcast"
    assert observer["zk_observer_master_id"] == roles["leader"][0].sid


def test_leader_and_follower_metrics_move(ens):
    roles = by_role(ens)
    lead, fol = roles["leader"][0], roles["follower"][0]
    _, fam1, l1 = scrape(lead.metrics_port)
    _, _, f1 = scrape(fol.metrics_port)
    write(ens, 20, "w")
    time.sleep(0.5)
    _, fam2, l2 = scrape(lead.metrics_port)
    _, _, f2 = scrape(fol.metrics_port)
    assert value(l2, "quorum_size") == 3
    assert value(l2, "learners") == 3
    assert value(l2, "synced_observers") == 1
    assert value(l2, "leader_uptime") > value(l1, "leader_uptime")
    assert value(l2, "election_time_count") >= 1
    assert value(l2, "proposal_count") >= value(l1, "proposal_count") + 20
    assert value(l2, "commit_count") >= value(l1, "commit_count") + 20
    # ZooKeeper's meanings: the leader times a quorum of acks, a learner the
    # proposal's and the commit's arrival.
    assert value(l2, "quorum_ack_latency_count") >= value(l1, "quorum_ack_latency_count") + 20
    assert value(f2, "proposal_latency_count") >= value(f1, "proposal_latency_count") + 20
    assert value(f2, "commit_propagation_latency_count") >= value(f1, "commit_propagation_latency_count") + 20
    assert value(l2, "proposal_latency_count") == 0  # as ZooKeeper: fed by learners only
    assert value(l2, "max_proposal_size") >= value(l2, "min_proposal_size") > 0
    assert value(f2, "learner_commit_received_count") >= value(f1, "learner_commit_received_count") + 20
    assert value(f2, "learner_proposal_received_count") >= value(f1, "learner_proposal_received_count") + 20
    assert value(f2, "follower_sync_time_count") >= 1
    assert value(f2, "looking_count") >= 1
    assert fam2["commit_count"].type == "counter"
    assert fam2["election_time"].type == "summary"


def test_ack_latency_per_follower(ens):
    """ack_latency{key=<sid>}: one zxid in 1000 (ZooKeeper's default
    ackLoggingFrequency) is timed to each follower's ACK; 1000 writes in
    one epoch reach exactly one such zxid. Observers do not ACK."""
    roles = by_role(ens)
    lead = roles["leader"][0]
    c = KazooClient(hosts=lead.hostport(), timeout=10)
    c.start(timeout=20)
    try:
        c.ensure_path("/ack")
        for r in [c.create_async("/ack/n", b"", sequence=True) for _ in range(1000)]:
            r.get(timeout=60)
    finally:
        c.stop()
        c.close()
    followers = {str(m.sid) for m in roles["follower"]}
    deadline = time.monotonic() + 10
    while True:
        _, _, samples = scrape(lead.metrics_port)
        keys = {s.labels["key"] for s in samples.get("ack_latency_count", []) if s.value >= 1}
        if keys == followers or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert keys == followers, keys
    mntr = check_zookeeper_parse(four_letter(lead.client_port, "mntr"))
    for sid in followers:
        assert mntr["zk_cnt_%s_ack_latency" % sid] >= 1, sid
        assert mntr["zk_max_%s_ack_latency" % sid] >= 0
