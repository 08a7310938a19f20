"""mntr against ZooKeeper 3.8: Aviary's key set covers ZooKeeper's (captured
from a real 3.8.0 in testdata/, and live from the installed one) except the
documented JVM/Netty-only keys, and check_zookeeper-style parsers read it."""

import os
import re
import sys

import pytest
from kazoo.client import KazooClient

from support import HERE, TESTDATA, AviaryServer, four_letter, mntr_lines

# Keys ZooKeeper prints that only exist in a JVM or with Netty (docs/monitoring/README.md).
JVM_NETTY_ONLY = re.compile(r"^zk_(avg|min|max|cnt|sum|p50|p95|p99|p999)_(jvm_pause_time_ms|netty_queued_buffer_capacity)$")
# Summary sets keyed by learner that Aviary does not feed (no per-learner
# handler queue); ZooKeeper prints them on a leader with learners.
UNFED_SETS = ("learner_handler_qp_size", "learner_handler_qp_time_ms")
SETS = ("read_per_namespace", "write_per_namespace", "ack_latency") + UNFED_SETS
SET_KEY = re.compile(r"^zk_(avg|min|max|cnt|sum|p50|p95|p99|p999)_.+_(%s)$" % "|".join(SETS))
STRING_KEYS = {"zk_version", "zk_server_state", "zk_peer_state"}


def normalize(keys):
    """Summary-set keys carry their key (a namespace, a server id): compare by set."""
    return {SET_KEY.sub(r"zk_\1_<key>_\2", k) for k in keys}


def excluded(key):
    return bool(JVM_NETTY_ONLY.match(key)) or any(key.endswith("_" + s) for s in UNFED_SETS)


def zookeeper_keys(role):
    with open(os.path.join(TESTDATA, "zookeeper-3.8.0-mntr_%s.txt" % role)) as f:
        return [k for k, _ in mntr_lines(f.read())]


def assert_covers(zk_keys, aviary_keys, role):
    want = {k for k in normalize(zk_keys) if not excluded(k)}
    missing = sorted(want - normalize(aviary_keys))
    assert not missing, "%s: keys ZooKeeper 3.8 prints that Aviary's mntr lacks: %s" % (role, missing)


# Keys Aviary's mntr adds to ZooKeeper's: an ensemble member's count of txns
# applied with another outcome than the leader's, and the leader's
# zk_followers as ZooKeeper 3.4 printed it (docs/monitoring/README.md).
AVIARY_EXTRAS = {"zk_learner_apply_mismatches", "zk_followers"}


def assert_no_extras(zk_keys, aviary_keys, role):
    """mntr follows ZooKeeper 3.8: no key it does not print, apart from
    AVIARY_EXTRAS. Summary-set keys depend on the
    load (which namespaces, which learners), so they are compared by name."""
    extra = sorted(k for k in normalize(aviary_keys) - normalize(zk_keys)
                   if k not in AVIARY_EXTRAS and not SET_KEY.match(k.replace("<key>", "k")))
    assert not extra, "%s: keys Aviary's mntr prints that ZooKeeper 3.8 does not: %s" % (role, extra)


def check_zookeeper_parse(text):
    """As zookeeper-contrib-monitoring/check_zookeeper.py: key<TAB>value, int or float."""
    parsed = {}
    for line in text.splitlines():
        key, value = map(str.strip, line.split("\t"))
        assert key.startswith("zk_"), line
        if key in STRING_KEYS:
            parsed[key] = value
            continue
        for typ in (int, float):
            try:
                parsed[key] = typ(value)
                break
            except ValueError:
                pass
        else:
            pytest.fail("value of %s is not a number: %r" % (key, value))
    return parsed


def aviary_mntr_after_load(server):
    zk = KazooClient(hosts=server.hostport(), timeout=10)
    zk.start(timeout=10)
    try:
        zk.create("/a", b"x")
        zk.get("/a")
        zk.set("/a", b"y")
        zk.exists("/a", watch=lambda e: None)
        return four_letter(server.port, "mntr")
    finally:
        zk.stop()
        zk.close()


@pytest.fixture(scope="module")
def standalone_mntr():
    s = AviaryServer(provider=None).start()
    try:
        yield aviary_mntr_after_load(s)
    finally:
        s.stop()


def test_standalone_covers_captured_zookeeper(standalone_mntr):
    keys = [k for k, _ in mntr_lines(standalone_mntr)]
    assert len(keys) == len(set(keys)), "a key printed twice"
    assert keys[:2] == ["zk_version", "zk_server_state"]
    assert_covers(zookeeper_keys("standalone"), keys, "standalone")


def test_check_zookeeper_style_parser_reads_it(standalone_mntr):
    p = check_zookeeper_parse(standalone_mntr)
    assert p["zk_server_state"] == "standalone"
    assert p["zk_znode_count"] >= 3
    assert p["zk_cnt_updatelatency"] >= 3  # the three writes of the load above
    assert p["zk_cnt_readlatency"] >= 2
    assert isinstance(p["zk_avg_latency"], float)
    assert p["zk_cnt_a_write_per_namespace"] == 2


def test_live_zookeeper_key_set(standalone_mntr):
    """The installed ZooKeeper 3.8, started here, prints no key Aviary lacks."""
    sys.path.insert(0, os.path.join(HERE, "..", "diff"))
    import servers  # noqa: E402  (tests/diff: starts the Debian package's ZooKeeper)
    from kazoo.client import KazooClient as K
    zk = servers.Server("zookeeper")
    try:
        zk.start(ready_timeout=90)
    except RuntimeError as e:
        pytest.skip("ZooKeeper 3.8 did not start: %s" % e)
    try:
        c = K(hosts="127.0.0.1:%d" % zk.port, timeout=10)
        c.start(timeout=10)
        c.create("/a", b"x")
        c.get("/a")
        c.set("/a", b"y")
        text = four_letter(zk.port, "mntr")
        c.stop()
        c.close()
    finally:
        zk.stop()
    check_zookeeper_parse(text)
    zk_keys, aviary_keys = [k for k, _ in mntr_lines(text)], [k for k, _ in mntr_lines(standalone_mntr)]
    assert_covers(zk_keys, aviary_keys, "live standalone")
    assert_no_extras(zk_keys, aviary_keys, "live standalone")
