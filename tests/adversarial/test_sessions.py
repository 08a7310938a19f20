"""Hostile session traffic (issue 6, items 9, 11 and 20).

A client that opens far more sessions than aviary.maxSessions allows must be
refused before anything is logged: after a restart on the same data dir the
refused sessions are not there, the allowed ones are, with their ephemerals,
and the server still takes new sessions.
"""

import os
import socket
import subprocess
import time

import adv
import harness
import rawzk

MAX_SESSIONS = 8
HOLDERS = 5  # sessions holding ephemerals across the restart
FLOOD = 60  # handshakes sent at once, far past the limit
HOLDER_TIMEOUT_MS = 20000  # survives the restart


def mntr(srv):
    out = {}
    for line in srv.four_letter("mntr").splitlines():
        k, _, v = line.partition("\t")
        out[k] = v
    return out


def global_sessions(srv):
    return int(mntr(srv)["zk_global_sessions"])


def restart_keeping_data(old, extra_cfg, timeout=20.0):
    """Stops `old` (SIGTERM) and starts a server on the same data dir and a
    new port. Only `ruok` is awaited: the session table may be full."""
    old.stop(keep_dir=True)
    port = harness.free_port()
    cfg_path = harness.write_config(old.workdir, port, extra_cfg)
    log_path = os.path.join(old.workdir, "server.restarted.log")
    with open(log_path, "ab") as logf:
        proc = subprocess.Popen(harness.server_command(cfg_path), stdin=subprocess.DEVNULL, stdout=logf,
                                stderr=subprocess.STDOUT, cwd=old.workdir, start_new_session=True)
    srv = harness.Server(proc, "127.0.0.1", port, old.workdir, cfg_path, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert srv.alive(), "restarted server exited: %s" % srv.log_tail()
        try:
            if srv.four_letter("ruok", timeout=1.0).strip() == "imok":
                return srv
        except OSError:
            pass
        time.sleep(0.05)
    srv.stop()
    raise AssertionError("restarted server not ready: %s" % srv.log_tail())


def flood_handshakes(srv, n):
    """Sends n connect requests on n connections before reading any answer.
    Returns (accepted clients, number refused)."""
    clients = [rawzk.RawClient(srv.host, srv.port, io_timeout=5.0) for _ in range(n)]
    for c in clients:
        c.send_raw(rawzk.connect_request(timeout_ms=5000))
    accepted, refused = [], 0
    for c in clients:
        try:
            r = rawzk.Reader(c.read_frame())
            r.int()
            c.timeout_ms = r.int()
            c.session_id = r.long()
            c.passwd = r.buffer()
            assert c.session_id != 0
            accepted.append(c)
        except (rawzk.ConnectionClosed, ConnectionResetError):
            refused += 1
            c.close()
        except socket.timeout:
            raise AssertionError("a handshake was neither answered nor refused")
    return accepted, refused


def test_session_limit_flood_refused_sessions_never_come_back(server_factory):
    cfg = {"aviary.maxSessions": MAX_SESSIONS}
    srv = server_factory(cfg)
    restarted = None
    holders = []
    try:
        with adv.Guard(srv):
            for i in range(HOLDERS):
                c = rawzk.open_session(srv.host, srv.port, timeout_ms=HOLDER_TIMEOUT_MS)
                err, _ = c.create("/holder%d" % i, b"lock", flags=rawzk.FLAG_EPHEMERAL)
                assert err == 0
                holders.append((c.session_id, c.passwd, c))

            accepted, refused = flood_handshakes(srv, FLOOD)
            assert len(accepted) == MAX_SESSIONS - HOLDERS, "accepted %d" % len(accepted)
            assert refused == FLOOD - len(accepted)
            for c in accepted:
                assert c.close_session() == 0
            assert global_sessions(srv) == HOLDERS

        # The holders' clients vanish; the server restarts on its data dir.
        for _sid, _pw, c in holders:
            c.close()
        restarted = restart_keeping_data(srv, cfg)

        # Only the holders come back: none of the refused handshakes was logged.
        assert global_sessions(restarted) == HOLDERS, mntr(restarted)
        with adv.Guard(restarted, writes=5):
            for i, (sid, pw, _c) in enumerate(holders):
                c = rawzk.RawClient(restarted.host, restarted.port)
                try:
                    _t, got, _pw = c.handshake(HOLDER_TIMEOUT_MS, session_id=sid, passwd=pw)
                    assert got == sid, "holder %d lost its session" % i
                    err, st = c.exists("/holder%d" % i)
                    assert err == 0 and st is not None, "holder %d lost its ephemeral" % i
                finally:
                    c.close()
            # A second flood after the restart is refused the same way.
            accepted, refused = flood_handshakes(restarted, 20)
            assert len(accepted) == MAX_SESSIONS - HOLDERS
            assert refused == 20 - len(accepted)
            for c in accepted:
                assert c.close_session() == 0
    finally:
        for _sid, _pw, c in holders:
            c.close()
        if restarted is not None:
            restarted.stop()
