"""Quorum SASL (quorum.auth.enableSasl / learnerRequireSasl /
serverRequireSasl): DIGEST-MD5 between ensemble members with the JAAS
sections QuorumServer (user_<name>="password") and QuorumLearner (username,
password), on election connections and learner -> leader connections.
Proven on an all-Aviary ensemble, mixed with Apache ZooKeeper 3.8 members
both ways (Aviary leading and following), a member with a wrong password
(refused, the ensemble keeps serving) and ZooKeeper's rolling enablement
(enableSasl=true with the require flags off beside a member without SASL,
then learnerRequireSasl=true beside enableSasl only).

Aviary reads the JAAS file from aviary.sasl.jaasConfig (zoo.cfg), ZooKeeper
from -Djava.security.auth.login.config.
"""

import os
import time

import pytest

from support import require

JAAS = """QuorumServer {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_member="%s";
};
QuorumLearner {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="member"
  password="%s";
};
"""

REQUIRED = {"quorum.auth.enableSasl": "true", "quorum.auth.learnerRequireSasl": "true",
            "quorum.auth.serverRequireSasl": "true"}
ENABLED = {"quorum.auth.enableSasl": "true"}


@pytest.fixture(scope="module")
def jaas(tmp_path_factory):
    root = tmp_path_factory.mktemp("quorum-jaas")
    paths = {}
    for name, server_pw, learner_pw in [("good", "pw", "pw"), ("bad", "pw", "wrong")]:
        p = os.path.join(str(root), name + ".conf")
        with open(p, "w") as f:
            f.write(JAAS % (server_pw, learner_pw))
        paths[name] = p
    return paths


def write_read_everywhere(ens, clients, path, value, skip=()):
    """Writes through the ensemble, then reads the value from every live
    member's own client port (but `skip`) after it synced."""
    c = clients(ens.connect_string([m for m in ens.members if m.alive() and m not in skip]))
    c.ensure_path(path)
    c.set(path, value)
    target = ens.mark()
    for m in ens.members:
        if not m.alive() or m in skip:
            continue
        ens.wait_synced(m, target=target)
        direct = clients(m.hostport())
        direct.sync(path)
        assert direct.get(path)[0] == value, "member %d (%s)" % (m.sid, m.kind)


def wait_logged(members, text, timeout=30.0):
    """Waits until one of `members` has logged `text`."""
    deadline = time.monotonic() + timeout
    while not any(text in m.log_since(0) for m in members):
        assert time.monotonic() < deadline, "no member of %s logged %r within %.0fs:\n%s" % (
            [m.sid for m in members], text, timeout, "\n".join(m.log_tail() for m in members))
        time.sleep(0.2)


def start_without(ens, bad):
    """The other members elect a leader; then `bad` starts and tries to
    join, over and over, for a few seconds."""
    good = [m for m in ens.members if m is not bad]
    for m in good:
        m.start()
    ens.wait_for_leader(60, serving=good)
    bad.start()
    time.sleep(4)
    assert bad.alive(), bad.log_tail()


def sasl_ensemble(make_ensemble, kinds, jaas, cfg, jaas_name="good"):
    """Every member with `cfg` and the JAAS file (Aviary: zoo.cfg key,
    ZooKeeper: JVM flag)."""
    jvm = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
           "-Djava.security.auth.login.config=%s" % jaas[jaas_name]]
    extra = dict(cfg)
    extra["aviary.sasl.jaasConfig"] = jaas[jaas_name]
    return make_ensemble(kinds, extra_cfg=extra, zk_jvm=jvm)


def aviary_auth_lines(member):
    return [ln for ln in member.log_since(0).splitlines()
            if "quorum SASL" in ln and "authenticated" in ln]


def zookeeper_auth_lines(member):
    return [ln for ln in member.log_since(0).splitlines()
            if "Successfully completed the authentication using SASL" in ln]


def test_all_aviary_quorum_sasl(make_ensemble, clients, jaas):
    require(["aviary"] * 3)
    ens = sasl_ensemble(make_ensemble, ["aviary"] * 3, jaas, REQUIRED)
    ens.start()
    write_read_everywhere(ens, clients, "/sasl", b"one")
    for m in ens.members:
        assert aviary_auth_lines(m), "member %d logged no quorum SASL:\n%s" % (m.sid, m.log_tail())
    # Learners authenticated to the leader on the quorum port too.
    assert any("authenticated to the leader" in ln for m in ens.followers() for ln in aviary_auth_lines(m))
    # The leader dies; the others elect (authenticating) and keep every write.
    old = ens.leader()
    old.kill()
    ens.wait_for_leader(60)
    write_read_everywhere(ens, clients, "/sasl", b"two")


def test_wrong_password_is_refused_and_the_ensemble_serves(make_ensemble, clients, jaas):
    require(["aviary"] * 3)
    ens = sasl_ensemble(make_ensemble, ["aviary"] * 3, jaas, REQUIRED)
    bad = ens.members[2]
    bad.extra_cfg = {"aviary.sasl.jaasConfig": jaas["bad"]}
    start_without(ens, bad)
    assert bad.mode() not in ("leader", "follower"), bad.log_tail()
    good = ens.members[:2]
    wait_logged(good, "refused")
    wait_logged([bad], "quorum SASL")
    write_read_everywhere(ens, clients, "/sasl", b"undisturbed", skip=[bad])
    assert bad.alive() and bad.mode() not in ("leader", "follower"), bad.log_tail()


@pytest.mark.parametrize("kinds,leader_kind", [
    (["aviary", "zookeeper", "zookeeper"], "zookeeper"),  # an Aviary follower of a ZooKeeper leader
    (["zookeeper", "aviary", "aviary"], "aviary"),        # an Aviary leader serves a ZooKeeper follower
])
def test_mixed_quorum_sasl(make_ensemble, clients, jaas, kinds, leader_kind):
    require(kinds)
    ens = sasl_ensemble(make_ensemble, kinds, jaas, REQUIRED)
    ens.start(first=ens.members[1:])  # the two highest ids elect first: member 3 leads
    ens.wait_for_leader(60)
    assert ens.leader().kind == leader_kind
    write_read_everywhere(ens, clients, "/mixed", b"sasl")
    for m in ens.members:
        if m.kind == "aviary":
            assert aviary_auth_lines(m), "member %d logged no quorum SASL:\n%s" % (m.sid, m.log_tail())
        else:
            wait_logged([m], "Successfully completed the authentication using SASL")


def test_rolling_enablement(make_ensemble, clients, jaas):
    """ZooKeeper's documented order: enableSasl=true everywhere (the require
    flags off: nobody is refused), then learnerRequireSasl=true, then
    serverRequireSasl=true; each step beside members of the step before."""
    kinds = ["zookeeper", "aviary", "aviary"]
    require(kinds)
    ens = sasl_ensemble(make_ensemble, kinds, jaas, {})
    # Step 0 (no SASL, ZooKeeper) beside step 1 (enableSasl only, Aviary).
    for m in ens.members[1:]:
        m.extra_cfg = dict(ENABLED)
    ens.start()
    write_read_everywhere(ens, clients, "/rolling", b"step1")
    # Step 2 on an Aviary member (it authenticates) beside step 1 members;
    # ZooKeeper moves to step 1.
    ens.members[0].extra_cfg = dict(ENABLED)
    ens.members[0].stop()
    ens.members[0].start()
    ens.members[2].extra_cfg = dict(ENABLED, **{"quorum.auth.learnerRequireSasl": "true"})
    ens.members[2].stop()
    ens.members[2].start()
    ens.wait_for_leader(60)
    write_read_everywhere(ens, clients, "/rolling", b"step2")
    assert aviary_auth_lines(ens.members[2]), ens.members[2].log_tail()
