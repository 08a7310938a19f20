"""setquota / listquota / delquota: zkCli's client logic over
/zookeeper/quota, against ZooKeeper 3.8 and Aviary. The server-maintained
zookeeper_stats counts are checked where the server keeps them (ZooKeeper;
Aviary once server-side quotas are merged, else that check is skipped)."""

import pytest

LIMITS = "/zookeeper/quota%s/zookeeper_limits"
STATS = "/zookeeper/quota%s/zookeeper_stats"


def server_counts(zk, path):
    return zk.get(STATS % path)[0].decode()


def test_setquota_listquota_delquota(cli, zk, base, target):
    q = base + "/q"
    zk.create(q, b"12345")
    zk.create(q + "/a", b"x")
    zk.create(q + "/b")
    r = cli("setquota", "-n", "5", q)
    assert r.rc == 0, r
    assert zk.get(LIMITS % q)[0] == b"count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"
    r = cli("setquota", "-B", "100", q)
    assert r.rc == 0
    assert zk.get(LIMITS % q)[0] == b"count=5,bytes=-1=;byteHardLimit=100;countHardLimit=-1"
    r = cli("listquota", q)
    assert r.rc == 0 and r.err.strip() == "absolute path is %s" % (LIMITS % q)
    lines = r.out.splitlines()
    assert lines[0] == "Output quota for %s count=5,bytes=-1=;byteHardLimit=100;countHardLimit=-1" % q
    assert lines[1] == "Output stat for %s %s" % (q, server_counts(zk, q))
    doc = cli("listquota", q, json=True).json()
    assert doc["quota"] == {"count": 5, "bytes": -1, "countHardLimit": -1, "byteHardLimit": 100}
    r = cli("delquota", "-n", q)
    assert r.rc == 0 and zk.get(LIMITS % q)[0] == b"count=-1,bytes=-1=;byteHardLimit=100;countHardLimit=-1"
    r = cli("delquota", q)
    assert r.rc == 0 and zk.exists("/zookeeper/quota" + q) is None
    assert zk.exists("/zookeeper/quota" + base) is None  # empty quota dirs trimmed
    r = cli("listquota", q)
    assert r.rc == 1 and "quota for %s does not exist." % q in r.err
    r = cli("delquota", q)
    assert r.out.strip() == "Quota does not exist for %s" % q


def test_setquota_refusals(cli, zk, base):
    q = base + "/p"
    zk.create(q + "/c/d", makepath=True)
    r = cli("setquota", "-n", "2", base + "/absent")
    assert r.rc == 1 and r.err.strip() == "%s/absent does not exist." % base
    assert cli("setquota", "-n", "10", q + "/c").rc == 0
    r = cli("setquota", "-n", "3", q)
    assert r.rc == 1 and r.err.strip() == "%s has a child %s/c which has a quota" % (q, q)
    r = cli("setquota", "-b", "3", q + "/c/d")
    assert r.rc == 1 and r.err.strip() == "%s/c/d has a parent %s/c which has a quota" % (q, q)
    r = cli("setquota", "-n", "0", q)
    assert r.rc == 1 and "the num quota must be greater than zero" in r.err
    r = cli("setquota", "-n", "1", "/zookeeper/quota/x")
    assert r.rc == 1 and "cannot set a quota under the path: /zookeeper/quota" in r.err
    r = cli("setquota", q)
    assert r.rc == 1 and "setquota -n|-b|-N|-B val path" in r.err
    assert cli("delquota", q + "/c").rc == 0


def test_stats_maintained_by_server(cli, zk, base, target):
    q = base + "/s"
    zk.create(q, b"12345")
    zk.create(q + "/a", b"xy")
    assert cli("setquota", "-n", "10", q).rc == 0
    stats = server_counts(zk, q)
    if target == "aviary" and stats == "count=0,bytes=0":
        cli("delquota", q)
        pytest.skip("server-side quota accounting (h-quota) is not merged into this branch yet")
    assert stats == "count=2,bytes=7"
    r = cli("setquota", "-n", "1", q)
    assert "[Warning]: the count quota you create is less than the existing count:2" in r.out
    assert cli("delquota", q).rc == 0
