"""The ensemble views of the AdminServer compared with Apache ZooKeeper
3.8's own, member roles alike: one mixed ensemble (Aviary 1, ZooKeeper 2,
Aviary 3, each with its AdminServer; ZooKeeper's Jetty from the Debian jars).
Aviary 3 leads first (highest id, fresh data): its leader views are
recorded and both followers' are compared with each other; then it is
killed and ZooKeeper 2 leads (the higher id of the two left): its leader
views are compared with Aviary's. Compared: the JSON field names and types,
recursively (test_zookeeper_fields.shape), of leader, zabstate,
voting_view, server_stats and stats, and the values every member must agree
on (the leader's id, the voting members and their addresses)."""

import time

import pytest

import conftest
from ensemble import ZK_JARS, Ensemble
from http_admin import command
from test_zookeeper_fields import shape

VIEWS = ["leader", "zabstate", "voting_view", "server_stats", "stats"]


def with_jetty(member):
    """ZooKeeper's AdminServer needs Jetty on the class path."""
    orig = member.command

    def command_line(cfg):
        cmd = orig(cfg)
        cmd[cmd.index("-cp") + 1] = conftest.zk_classpath_with(ZK_JARS)
        return cmd
    member.command = command_line


def views(port, want_role, timeout=30.0):
    """The VIEWS of one member once it is in broadcast in `want_role`."""
    deadline = time.monotonic() + timeout
    while True:
        got = {}
        for name in VIEWS:
            status, body = command(port, name)
            assert status == 200, (name, status, body)
            got[name] = body
        z = got["zabstate"]
        if z.get("zabstate") == "broadcast" and z.get("is_leader") == (want_role == "leader") \
                and got["server_stats"].get("server_stats", {}).get("server_state") == want_role:
            return got
        assert time.monotonic() < deadline, (want_role, got)
        time.sleep(0.2)


def compare(aviary, zookeeper, role):
    for name in VIEWS:
        a, z = aviary[name], zookeeper[name]
        assert a["error"] is None and z["error"] is None, (name, a, z)
        assert shape(a) == shape(z), (role, name, a, z)


def test_ensemble_views_match_zookeeper():
    if conftest.zk_classpath() is None:
        pytest.skip("Jetty jars for ZooKeeper's AdminServer are not installed")
    ens = Ensemble(["aviary", "zookeeper", "aviary"])
    ports = {}
    for m in ens.members:
        ports[m.sid] = conftest.free_port()
        m.extra_cfg.update({"admin.enableServer": "true", "admin.serverPort": ports[m.sid],
                            "admin.serverAddress": "127.0.0.1"})
        if m.kind == "zookeeper":
            with_jetty(m)
    try:
        ens.start(timeout=90)
        assert ens.wait_for_leader(90).sid == 3
        ens.mark()
        aviary_leader = views(ports[3], "leader")
        aviary_follower = views(ports[1], "follower")
        zk_follower = views(ports[2], "follower")
        compare(aviary_follower, zk_follower, "follower")
        for v in (aviary_leader, aviary_follower, zk_follower):
            assert v["leader"]["leader_id"] == 3 and v["leader"]["leader_ip"] == "127.0.0.1", v["leader"]
        assert aviary_leader["voting_view"] == aviary_follower["voting_view"] == zk_follower["voting_view"]

        ens.members[2].kill()
        assert ens.wait_for_leader(90).sid == 2
        ens.mark()
        zk_leader = views(ports[2], "leader")
        compare(aviary_leader, zk_leader, "leader")
        assert views(ports[1], "follower")["leader"]["leader_id"] == 2
        assert "proposal_stats" in zk_leader["server_stats"] and "proposal_stats" in aviary_leader["server_stats"]
    finally:
        ens.stop()
