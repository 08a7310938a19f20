"""Every AdminServer command against a standalone Aviary: status, the
CommandResponse frame ("command", "error") and the content the command
shows, checked against state made by a real client (kazoo)."""

import re

from kazoo.client import KazooClient

import harness
from http_admin import command, request

REQUIRED = ["connection_stat_reset", "configuration", "connections", "dump", "environment", "get_trace_mask",
            "hash", "initial_configuration", "is_read_only", "last_snapshot", "leader", "monitor",
            "observer_connection_stat_reset", "ruok", "server_stats", "stat_reset", "voting_view",
            "watch_summary", "watches", "watches_by_path", "zabstate", "snapshot", "restore"]

ALIASES = {"stat": "stats", "srvr": "server_stats", "conf": "configuration", "config": "configuration",
           "cons": "connections", "mntr": "monitor", "envi": "environment", "env": "environment",
           "crst": "connection_stat_reset", "srst": "stat_reset", "wchc": "watches", "wchp": "watches_by_path",
           "wchs": "watch_summary", "isro": "is_read_only", "gtmk": "get_trace_mask", "lsnp": "last_snapshot",
           "icfg": "initial_configuration", "lead": "leader", "orst": "observer_connection_stat_reset"}


def client(srv):
    zk = KazooClient(hosts=srv.hostport, timeout=10.0)
    zk.start(timeout=15)
    return zk


def ok(port, name):
    status, body = command(port, name)
    assert status == 200, (name, status, body)
    assert body["error"] is None, (name, body)
    return body


def test_listing_links_every_command(aviary_shared):
    status, headers, body = request(aviary_shared.admin_port, "/commands")
    assert status == 200
    links = re.findall(r'<a href="/commands/([a-z_]+)">([a-z_]+)</a>', body.decode())
    names = [a for a, b in links if a == b]
    assert names == sorted(names)
    for name in REQUIRED:
        assert name in names, name
    assert request(aviary_shared.admin_port, "/commands/")[2] == body


def test_aliases_answer_with_the_primary_name(aviary_shared):
    for alias, primary in ALIASES.items():
        status, body = command(aviary_shared.admin_port, alias)
        assert status == 200, alias
        assert body["command"] == primary, (alias, body)


def test_unknown_command(aviary_shared):
    status, body = command(aviary_shared.admin_port, "no_such_thing")
    assert status == 200  # ZooKeeper keeps 200 here
    assert body == {"command": "no_such_thing", "error": "Unknown command: no_such_thing"}


def test_content_against_client_state(aviary_shared):
    srv, port = aviary_shared, aviary_shared.admin_port
    zk = client(srv)
    try:
        zk.create("/adm", b"x")
        zk.create("/adm/eph", b"y", ephemeral=True)
        zk.get("/adm", watch=lambda e: None)
        sid = zk.client_id[0]
        local_port = zk._connection._socket.getsockname()[1]

        assert ok(port, "ruok") == {"command": "ruok", "error": None}
        conf = ok(port, "configuration")
        assert conf["client_port"] == srv.port and conf["tick_time"] == harness.TICK_TIME_MS
        assert conf["data_dir"].endswith("/data/version-2")

        cons = ok(port, "connections")["connections"]
        mine = [c for c in cons if c["remote_socket_address"] == "127.0.0.1:%d" % local_port]
        assert len(mine) == 1 and mine[0]["session_id"] == sid, cons
        assert mine[0]["packets_received"] >= 3

        dump = ok(port, "dump")
        assert dump["session_id_to_ephemeral_paths"] == {str(sid): ["/adm/eph"]}
        assert any(sid in ids for ids in dump["expiry_time_to_session_ids"].values())

        assert ok(port, "watches")["session_id_to_watched_paths"] == {str(sid): ["/adm"]}
        assert ok(port, "watches_by_path")["path_to_session_ids"] == {"/adm": [sid]}
        assert ok(port, "watch_summary") == {"num_connections": 1, "num_paths": 1, "num_total_watches": 1,
                                             "command": "watch_summary", "error": None}

        stats = ok(port, "server_stats")
        assert stats["server_stats"]["server_state"] == "standalone"
        assert stats["read_only"] is False
        assert stats["node_count"] == int(srv.four_letter("mntr").split("zk_znode_count\t")[1].split()[0])
        assert stats["server_stats"]["last_processed_zxid"] == zk.exists("/adm/eph").czxid
        brief = ok(port, "stats")["connections"]
        assert set(brief[0]) == {"remote_socket_address", "interest_ops", "outstanding_requests",
                                 "packets_received", "packets_sent"}
    finally:
        zk.stop()
        zk.close()


def test_monitor_has_mntr_keys_typed(aviary_shared):
    port = aviary_shared.admin_port
    mon = ok(port, "monitor")
    text = aviary_shared.four_letter("mntr")
    pairs = dict(line.split("\t", 1) for line in text.strip().splitlines())
    keys = {k[len("zk_"):] for k in pairs}
    assert keys == set(mon) - {"command", "error"}
    for k, v in pairs.items():
        got = mon[k[len("zk_"):]]
        if re.fullmatch(r"-?\d+", v) and not k.startswith("zk_avg_"):
            assert isinstance(got, int) and not isinstance(got, bool), (k, got)
        elif re.fullmatch(r"-?\d+(\.\d+)?(E-?\d+)?", v):
            assert isinstance(got, float), (k, got)
        else:
            assert got == v, (k, got)
    assert mon["server_state"] == "standalone"
    assert mon["znode_count"] >= 4


def test_static_and_standalone_answers(aviary_shared):
    port = aviary_shared.admin_port
    with open(aviary_shared.cfg_path) as f:
        assert ok(port, "initial_configuration")["initial_configuration"] == f.read()
    assert ok(port, "is_read_only")["read_only"] is False
    assert ok(port, "get_trace_mask")["tracemask"] == 306
    assert isinstance(ok(port, "hash")["digests"], list)
    env = ok(port, "environment")
    assert "zookeeper.version" in env and "os.name" in env
    assert ok(port, "voting_view")["current_config"] == {}
    zab = ok(port, "zabstate")
    assert zab == {"voting": False, "zabstate": "", "command": "zabstate", "error": None}
    status, lead = command(port, "leader")
    assert status == 200 and lead == {"error": "server is not initialized", "command": "leader"}
    snap = ok(port, "last_snapshot")
    assert re.fullmatch(r"[0-9a-f]+", snap["zxid"]) and snap["timestamp"] > 1_600_000_000
    assert ok(port, "observer_connection_stat_reset") == {"command": "observer_connection_stat_reset",
                                                          "error": None}


def test_resets(aviary_shared):
    srv, port = aviary_shared, aviary_shared.admin_port
    zk = client(srv)
    try:
        for i in range(5):
            zk.exists("/")
        assert ok(port, "server_stats")["server_stats"]["packets_received"] >= 5
        ok(port, "stat_reset")
        assert ok(port, "server_stats")["server_stats"]["packets_received"] < 5
        assert max(c["packets_received"] for c in ok(port, "connections")["connections"]) >= 5
        ok(port, "connection_stat_reset")
        assert max(c["packets_received"] for c in ok(port, "connections")["connections"]) < 5
    finally:
        zk.stop()
        zk.close()


def test_post_only_and_get_only(aviary_shared):
    port = aviary_shared.admin_port
    status, body = command(port, "restore")
    assert status == 405 and body["command"] == "restore"
    status, body = command(port, "ruok", method="POST", body=b"")
    assert status == 405
