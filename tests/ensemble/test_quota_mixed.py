"""Quotas in mixed ensembles (issue 9, item 4): ZooKeeper 3.8 and Aviary
members keep the same zookeeper_stats while applying the same txns, the
leader of either kind refuses writes past a hard limit (enforceQuota) for
writes arriving through a member of the other kind, a member that joins
fresh and is synced by SNAP has the same stats, and no digest mismatch is
counted (the tree digest leaves /zookeeper/ out, in both).

  zk2_av1: ZooKeeper 2 leads, Aviary 3 follows (SNAP from a ZooKeeper leader).
  zk1_av2: Aviary 3 leads, ZooKeeper 1 follows.
"""

import time

import pytest
from kazoo.exceptions import EXCEPTIONS, ZookeeperError

import checks
import digests
import support

ZK, AV = "zookeeper", "aviary"
CONFIGS = {
    "zk2_av1": dict(kinds=[ZK, ZK, AV], first=[0, 1], leader_sid=2, other=2, needs=["snap_install"]),
    "zk1_av2": dict(kinds=[ZK, AV, AV], first=[1, 2], leader_sid=3, other=0, needs=[]),
}
LIMITS = b"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=4"


class QuotaExceededError(ZookeeperError):
    code = -125  # kazoo 2.8 has no class for QUOTAEXCEEDED


if -125 not in EXCEPTIONS:
    EXCEPTIONS[-125] = QuotaExceededError


def stats_everywhere(ens, clients):
    checks.settle(ens, *ens.members)
    out = {}
    for m in ens.members:
        c = checks.pinned(clients, m)
        out[m.sid] = c.get("/zookeeper/quota/q/zookeeper_stats")[0]
    return out


def wait_leader_stats(clients, lead, want, timeout=10.0):
    """Waits until the leader's own zookeeper_stats of /q read `want`.

    A leader checks a quota at prepare against the stats of the tree it has
    applied (ZooKeeper 3.8's checkQuota; Aviary adds the growth of txns
    prepared but not applied, never credits a pending delete, and prepares
    a learner's request that arrived in the same pass as a commit before
    applying it). Its apply can trail the commit a follower already applied
    and answered, so the next write through that follower could be checked
    against stats one txn old (CI saw a create refused after a delete)."""
    stats = "/zookeeper/quota/q/zookeeper_stats"
    lc = checks.pinned(clients, lead)
    deadline = time.monotonic() + timeout
    got = lc.get(stats)[0]
    while got != want and time.monotonic() < deadline:
        time.sleep(0.05)
        got = lc.get(stats)[0]
    assert got == want, "leader %d (%s): %s is %r after %.0fs, expected %r" % (
        lead.sid, lead.kind, stats, got, timeout, want)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_mixed_quota_stats_and_enforcement(make_ensemble, clients, name):
    cfg = CONFIGS[name]
    support.require(cfg["kinds"], *cfg["needs"])
    ens = make_ensemble(cfg["kinds"], extra_cfg={"enforceQuota": "true"})
    lead = ens.start(first=[ens.members[i] for i in cfg["first"]])
    assert lead.sid == cfg["leader_sid"]
    other = ens.members[cfg["other"]]  # a follower of the leader's other kind
    assert other.kind != lead.kind
    c = checks.pinned(clients, other)
    # What zkCli's setquota -N 4 /q writes, through the follower.
    c.create("/q", b"ab")
    c.create("/zookeeper/quota/q")
    c.create("/zookeeper/quota/q/zookeeper_limits", LIMITS)
    c.create("/zookeeper/quota/q/zookeeper_stats", b"count=0,bytes=0")
    c.create("/q/a", b"xyz")
    c.create("/q/b")
    c.set("/q/a", b"1234")
    c.create("/q/c")  # 4 of 4
    # The leader refuses the next create only once its tree counts /q/c.
    wait_leader_stats(clients, lead, b"count=4,bytes=6")
    with pytest.raises(QuotaExceededError):
        c.create("/q/d")
    with pytest.raises(QuotaExceededError):
        checks.pinned(clients, lead).create("/q/e", b"x")
    c.delete("/q/b")
    # The next create is allowed only once the leader's tree counts the delete.
    wait_leader_stats(clients, lead, b"count=3,bytes=6")
    c.create("/q/f", b"12345")
    assert set(stats_everywhere(ens, clients).values()) == {b"count=4,bytes=11"}
    # A member wiped and restarted syncs by SNAP and recounts on load.
    since = other.log_size()
    other.replace(other.kind, wipe=True)
    ens.wait_synced(other, target=ens.mark())
    assert other.sync_modes(since) == ["SNAP"], other.sync_modes(since)
    assert set(stats_everywhere(ens, clients).values()) == {b"count=4,bytes=11"}
    with pytest.raises(QuotaExceededError):
        checks.pinned(clients, other).create("/q/g")
    digests.check_no_mismatch(ens)
