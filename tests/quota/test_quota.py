"""Quotas as Apache ZooKeeper 3.8 keeps them, driven by zkCli.sh.

Every scenario runs against Aviary and against ZooKeeper 3.8 (both started
here) and the zkCli.sh outputs (setquota -n/-b/-N/-B, listquota, delquota
and the refusals they print) must be the same line for line; then what
each server must do on its own: hard limits refused with QUOTAEXCEEDED
(-125) under zookeeper.enforceQuota (from zoo.cfg or SERVER_JVMFLAGS),
soft limits logged, stats recomputed after a restart.
"""

import os

import pytest

import quota_support as qs

pytestmark = pytest.mark.skipif(not os.path.exists(qs.ZKCLI), reason="zookeeper package not installed")

TARGETS = [qs.AV, qs.ZK]


def run_both(fn, extra_cfg=None):
    """fn(srv) on a fresh Aviary and a fresh ZooKeeper; returns {target: result}."""
    out = {}
    for t in TARGETS:
        srv = qs.start(t, extra_cfg=extra_cfg)
        try:
            out[t] = fn(srv)
        finally:
            srv.stop()
    return out


def seed(srv):
    c = qs.client(srv)
    try:
        c.create("/q", b"ab")
        c.create("/q/a", b"xyz")
        c.create("/q/a/deep", b"1")
        c.create("/p")
        c.create("/p/c")
    finally:
        c.stop()
        c.close()


CLI_SCRIPT = [
    "setquota -n 5 /q",
    "listquota /q",
    "setquota -b 100 /q",
    "setquota -N 6 /q",
    "setquota -B 50 /q",
    "listquota /q",
    # zkCli's own refusals, which read the quota tree through the server
    "setquota -n 2 /q/a",
    "setquota -n 2 /q/a/deep",
    "setquota -n 0 /p",
    "setquota -n 2 /zookeeper/quota/x",
    "setquota -N 1 /nonexistent",
    "setquota -N 3 /p/c",
    "setquota -n 3 /p",
    # the stats node follows creates, data changes and deletes
    "create /q/b bbbb",
    "set /q/a 123456",
    "delete /q/a/deep",
    "listquota /q",
    "listquota /p/c",
    "get /zookeeper/quota/q/zookeeper_stats",
    "ls -R /zookeeper/quota",
    # partial and whole delquota, and a delquota of nothing
    "delquota -n /q",
    "delquota -B /q",
    "listquota /q",
    "delquota /q",
    "listquota /q",
    "delquota /q",
    "delquota /p/c",
    "ls -R /zookeeper/quota",
    "listquota /p/c",
]


def test_zkcli_quota_commands_match_zookeeper():
    def scenario(srv):
        seed(srv)
        out, err = qs.zkcli(srv, CLI_SCRIPT)
        return qs.cli_lines(out, ""), qs.cli_lines("", err)

    res = run_both(scenario)
    av_out, av_err = res[qs.AV]
    zk_out, zk_err = res[qs.ZK]
    assert av_out == zk_out
    assert av_err == zk_err
    # And they say what a quota says (not two equally broken outputs).
    assert "Output quota for /q count=5,bytes=100=;byteHardLimit=50;countHardLimit=6" in av_out
    assert "Output stat for /q count=3,bytes=6" in av_out       # /q, /q/a, /q/a/deep
    assert "Output stat for /q count=3,bytes=12" in av_out      # + /q/b, /q/a grew, - deep
    assert "count=3,bytes=12" in av_out                         # get of the stats node
    assert "/q/a has a parent /q which has a quota" in av_err
    assert "/p has a child /p/c which has a quota" in av_err
    assert "Output quota for /q count=-1,bytes=100=;byteHardLimit=-1;countHardLimit=6" in av_out
    assert "Quota does not exist for /q" in av_out


def test_hard_limits_refused_with_quota_exceeded():
    """enforceQuota in zoo.cfg (both servers read it there)."""
    def scenario(srv):
        seed(srv)
        out, err = qs.zkcli(srv, ["setquota -N 4 /q", "setquota -B 10 /p"])
        c = qs.client(srv)
        codes = []
        try:
            c.create("/q/b")  # 4 of 4
            for op in (lambda: c.create("/q/c"),                    # 5 > 4
                       lambda: c.create("/q/a/x", b"", sequence=True),
                       lambda: c.create("/p/big", b"x" * 11),        # bytes 11 > 10
                       lambda: c.create("/p/ok", b"x" * 10),         # 10 fits
                       lambda: c.set("/p/ok", b"x" * 11),
                       lambda: c.set("/p/ok", b"y" * 10),
                       lambda: c.set("/p/ok", b"z" * 11, version=99)):  # quota before version
                try:
                    op()
                    codes.append(0)
                except qs.QuotaExceededError:
                    codes.append(qs.QUOTA_EXCEEDED)
                except Exception as e:  # noqa: BLE001 - the code is what is compared
                    codes.append(type(e).__name__)
            tx = c.transaction()
            tx.delete("/q/b")
            tx.create("/q/m")
            multi_ok = tx.commit()
            stats = c.get("/zookeeper/quota/q/zookeeper_stats")[0].decode()
            pstats = c.get("/zookeeper/quota/p/zookeeper_stats")[0].decode()
        finally:
            c.stop()
            c.close()
        cli_out, cli_err = qs.zkcli(srv, ["create /q/d", "set /p/ok 12345678901", "listquota /q"])
        logged = qs.wait_log(srv, "Quota exceeded: /q [current count=5, hardCountLimit=4]")
        return codes, [type(r).__name__ for r in multi_ok], stats, pstats, qs.cli_lines(cli_out, cli_err), logged

    res = run_both(scenario, extra_cfg={"enforceQuota": "true"})
    assert res[qs.AV] == res[qs.ZK]
    codes, multi, stats, pstats, cli, logged = res[qs.AV]
    assert codes == [-125, -125, -125, 0, -125, 0, -125]
    # As ZooKeeper reads the applied stats, a delete in a multi does not make
    # room for a create in the same multi.
    assert multi == ["RolledBackError", "QuotaExceededError"]
    assert stats == "count=4,bytes=6"
    assert pstats == "count=3,bytes=10"
    assert "Quota has exceeded : /q/d" in cli and "Quota has exceeded : /p/ok" in cli
    assert logged


def test_enforce_quota_from_server_jvmflags_and_default_off():
    srv = qs.start(qs.AV, jvmflags="-Xmx1g -Dzookeeper.enforceQuota=true")
    try:
        c = qs.client(srv)
        c.create("/q")
        qs.zkcli(srv, ["setquota -N 1 /q"])
        with pytest.raises(qs.QuotaExceededError):
            c.create("/q/x")
        c.stop()
        c.close()
    finally:
        srv.stop()
    srv = qs.start(qs.AV)  # default: not enforced, nothing logged
    try:
        c = qs.client(srv)
        c.create("/q")
        qs.zkcli(srv, ["setquota -N 1 /q"])
        c.create("/q/x")
        assert c.get("/zookeeper/quota/q/zookeeper_stats")[0] == b"count=2,bytes=0"
        c.stop()
        c.close()
        assert "Quota exceeded" not in srv.log_tail(400000)
    finally:
        srv.stop()


@pytest.mark.parametrize("target", TARGETS)
def test_soft_limits_only_logged(target):
    srv = qs.start(target, extra_cfg={"enforceQuota": "true"})
    try:
        seed(srv)
        qs.zkcli(srv, ["setquota -n 3 /q", "setquota -b 6 /p"])
        c = qs.client(srv)
        c.create("/q/b")
        c.create("/q/c")  # 5 > 3: allowed, logged
        c.create("/p/d", b"1234567")
        assert c.get("/zookeeper/quota/q/zookeeper_stats")[0] == b"count=5,bytes=6"
        c.stop()
        c.close()
        assert qs.wait_log(srv, "Quota exceeded: /q [current count=4, softCountLimit=3]")
        assert qs.wait_log(srv, "Quota exceeded: /p [current bytes=7, softByteLimit=6]")
    finally:
        srv.stop()


@pytest.mark.parametrize("target", TARGETS)
def test_stats_right_after_restart(target):
    """Stats are recomputed from the tree when a snapshot is loaded; a
    client's write into the stats node does not survive a snapshot."""
    srv = qs.start(target, extra_cfg={"snapCount": "2"})
    try:
        seed(srv)
        qs.zkcli(srv, ["setquota -N 100 /q"])
        c = qs.client(srv)
        c.set("/zookeeper/quota/q/zookeeper_stats", b"count=900,bytes=900")
        c.create("/q/n", b"12345")
        assert c.get("/zookeeper/quota/q/zookeeper_stats")[0] == b"count=901,bytes=905"
        for i in range(30):  # past snapCount: snapshots are written after the bogus write
            c.create("/p/s%02d" % i)
        c.stop()
        c.close()
        qs.restart(srv)
        c = qs.client(srv)
        assert c.get("/zookeeper/quota/q/zookeeper_stats")[0] == b"count=4,bytes=11"
        c.create("/q/after")
        assert c.get("/zookeeper/quota/q/zookeeper_stats")[0] == b"count=5,bytes=11"
        c.stop()
        c.close()
        out, err = qs.zkcli(srv, ["listquota /q"])
        assert "Output stat for /q count=5,bytes=11" in out
    finally:
        srv.stop()


def test_multi_cannot_pass_a_hard_limit_documented_departure():
    """docs/COMPATIBILITY.md, Quotas: ZooKeeper 3.8 checks each op of a multi
    against the applied stats, so five creates pass a limit with room for
    one; Aviary counts the multi's earlier ops and refuses it whole."""
    def scenario(srv):
        c = qs.client(srv)
        try:
            c.create("/q")
            qs.zkcli(srv, ["setquota -N 2 /q"])
            tx = c.transaction()
            for i in range(5):
                tx.create("/q/m%d" % i)
            results = [type(r).__name__ for r in tx.commit()]
            return results, c.get("/zookeeper/quota/q/zookeeper_stats")[0]
        finally:
            c.stop()
            c.close()

    res = run_both(scenario, extra_cfg={"enforceQuota": "true"})
    assert res[qs.ZK] == (["str"] * 5, b"count=6,bytes=0")
    assert res[qs.AV] == (["RolledBackError", "QuotaExceededError"] + ["RuntimeInconsistency"] * 3,
                          b"count=1,bytes=0")
