"""leader / voting_view / zabstate / server_stats on a 3-member Aviary
ensemble (tests/ensemble's launcher), each member with its AdminServer on a
free port: one leader that every member names, the configured members and
addresses, the ZAB phase, and the leader's role in every view."""

import time

import conftest
from ensemble import Ensemble
from http_admin import command, request


def ok(port, name):
    status, body = command(port, name)
    assert status == 200 and body.get("error") is None, (name, status, body)
    return body


def test_ensemble_views():
    ens = Ensemble(["aviary", "aviary", "aviary"])
    ports = {}
    for m in ens.members:
        ports[m.sid] = conftest.free_port()
        m.extra_cfg.update({"admin.enableServer": "true", "admin.serverPort": ports[m.sid],
                            "admin.serverAddress": "127.0.0.1"})
    ens.start()
    try:
        leader = ens.wait_for_leader()
        deadline = time.monotonic() + 30
        while True:
            zab = {sid: ok(p, "zabstate") for sid, p in ports.items()}
            if all(z["zabstate"] == "broadcast" for z in zab.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for sid, port in ports.items():
            lead = ok(port, "leader")
            assert lead["leader_id"] == leader.sid, (sid, lead)
            assert lead["is_leader"] == (sid == leader.sid)
            assert lead["leader_ip"] == "127.0.0.1"
            z = zab[sid]
            assert z["zabstate"] == "broadcast" and z["myid"] == sid and z["voting"] is True
            assert z["is_leader"] == (sid == leader.sid)
            m = ens.members[sid - 1]
            assert z["quorum_address"]["all_addresses"] == ["127.0.0.1:%d" % m.quorum_port]
            assert z["election_address"]["all_addresses"] == ["127.0.0.1:%d" % m.election_port]
            # As ZooKeeper: the leader's last processed zxid is its epoch's
            # first; a follower shows what it applied (0x0 before any write).
            assert int(z["last_zxid"], 16) >> 32 == z["zab_epoch"]
            assert z["zab_epoch"] >= (1 if sid == leader.sid else 0)
            view = ok(port, "voting_view")["current_config"]
            assert sorted(view) == ["1", "2", "3"]
            for other in ens.members:
                v = view[str(other.sid)]
                assert v["server_addresses"] == ["127.0.0.1:%d" % other.quorum_port]
                assert v["election_addresses"] == ["127.0.0.1:%d" % other.election_port]
                assert v["learner_type"] == "participant"
                assert v["client_address"] == "127.0.0.1:%d" % other.client_port
            state = ok(port, "server_stats")["server_stats"]["server_state"]
            assert state == ("leader" if sid == leader.sid else "follower")
            mon = ok(port, "monitor")
            assert mon["server_state"] == state
            if sid == leader.sid:
                assert mon["synced_followers"] == 2 and mon["learners"] == 2
                assert "proposal_stats" in ok(port, "server_stats")
        # A member streams a snapshot; restore is refused in an ensemble
        # (docs/COMPATIBILITY.md).
        auth = {"Authorization": "digest backup:secret"}
        follower = next(sid for sid in ports if sid != leader.sid)
        status, _, snap = request(ports[follower], "/commands/snapshot", headers=auth)
        assert status == 200 and snap[:4] == b"ZKSN"
        status, _, body = request(ports[leader.sid], "/commands/restore", method="POST", body=snap, headers=auth)
        assert status == 500 and b"only supported on a standalone server" in body
    finally:
        ens.stop()
