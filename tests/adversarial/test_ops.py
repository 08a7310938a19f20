"""Operations (issue 6, items 7, 15, 18): four-letter word floods, the
dual-stack listener's view of IPv4 clients, and configurations Aviary must
refuse instead of ignoring."""

import os
import socket
import subprocess
import threading
import time

import pytest

import adv
import harness
import rawzk

FLOOD_SECONDS = 4.0
# Per-op latency bound for the writer while the flood runs. Without the fix
# every word (even a refused one) listed the data directory on the core
# thread, and the writer waited behind hundreds of listings.
MAX_WRITE_LATENCY_S = 0.5 * (4 if adv.sanitized() else 1)


def _four_letter_quiet(host, port, word):
    try:
        return harness.four_letter(host, port, word, timeout=5.0)
    except OSError:
        return ""


def _fill_data_dir(srv, files):
    """Junk in version-2 makes every directory listing expensive."""
    d = os.path.join(srv.workdir, "data", "version-2")
    for i in range(files):
        with open(os.path.join(d, "junk.%06d" % i), "wb"):
            pass


def test_four_letter_flood_keeps_writes_fast(server_factory):
    srv = server_factory({"4lw.commands.whitelist": "ruok,srvr,cons,mntr,conf,dirs"})
    _fill_data_dir(srv, 20000)
    words = ["cons", "mntr", "conf", "dirs", "envi", "stat", "wchp", "dump"]  # the last four are refused
    with adv.Guard(srv) as g:
        writer = rawzk.open_session(srv.host, srv.port)
        err, _ = writer.create(g.prefix + "/w", b"0")
        assert err == 0
        stop = threading.Event()
        answered = [0] * 8
        checked = {}

        def flood(t):
            i = t
            while not stop.is_set():
                word = words[i % len(words)]
                reply = _four_letter_quiet(srv.host, srv.port, word)
                if reply:
                    answered[t] += 1
                    checked.setdefault(word, reply)
                i += 1

        threads = [threading.Thread(target=flood, args=(t,), daemon=True) for t in range(8)]
        for t in threads:
            t.start()
        worst = 0.0
        ops = 0
        deadline = time.monotonic() + FLOOD_SECONDS
        try:
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                err, _ = writer.set_data(g.prefix + "/w", b"%d" % ops)
                assert err == 0
                err, got = writer.get_data(g.prefix + "/w")
                assert err == 0 and got[0] == b"%d" % ops
                worst = max(worst, time.monotonic() - t0)
                ops += 1
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=10)
            writer.close_session()
        assert sum(answered) > 100, "the flood hardly ran: %d words answered" % sum(answered)
        assert "not in the whitelist" in checked.get("envi", "not in the whitelist")
        assert checked.get("dirs", "datadir_size").startswith("datadir_size")
        assert worst <= MAX_WRITE_LATENCY_S, (
            "a write+read took %.3f s during a four-letter flood (%d words, %d ops)"
            % (worst, sum(answered), ops))


def _ipv6_wildcard_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", 0))
            return True
    except OSError:
        return False


def _start_without_client_port_address(server_factory, monkeypatch, extra):
    """A server whose zoo.cfg has no clientPortAddress (ZooKeeper's default)."""
    original = harness.write_config

    def write_config(workdir, port, extra_cfg=None):
        path = original(workdir, port, extra_cfg)
        with open(path) as f:
            lines = [ln for ln in f if not ln.startswith("clientPortAddress=")]
        with open(path, "w") as f:
            f.writelines(lines)
        return path

    monkeypatch.setattr(harness, "write_config", write_config)
    return server_factory(extra)


@pytest.mark.parametrize("address", ["::", None])
def test_ipv4_client_of_dual_stack_listener_matches_ip_acl_and_max_cnxns(server_factory, monkeypatch,
                                                                          address):
    if not _ipv6_wildcard_available():
        pytest.skip("no IPv6 on this machine")
    if harness.target() != "aviary":
        pytest.skip("the harness pins ZooKeeper's address")
    extra = {"maxClientCnxns": "4"}
    if address is None:
        srv = _start_without_client_port_address(server_factory, monkeypatch, extra)
    else:
        extra["clientPortAddress"] = address
        srv = server_factory(extra)
    with socket.create_connection(("::1", srv.port), timeout=3) as s6:  # an IPv6 listener indeed
        s6.sendall(b"ruok")
        assert s6.recv(16) == b"imok"
    with adv.Guard(srv) as g:
        owner = rawzk.open_session("127.0.0.1", srv.port)
        path = g.prefix + "/by-ip"
        err, _ = owner.create(path, b"secret", acls=[(31, "ip", "127.0.0.1")])
        assert err == 0
        err, got = owner.get_data(path)
        assert err == 0 and got[0] == b"secret", "ip:127.0.0.1 ACL did not match an IPv4 client: err %d" % err
        cons = srv.four_letter("cons")
        assert "/127.0.0.1:" in cons and "::ffff:" not in cons, cons

        # maxClientCnxns counts 127.0.0.1 clients as one address: owner + 3 more fill it.
        extra_clients = [rawzk.open_session("127.0.0.1", srv.port) for _ in range(3)]
        refused = rawzk.RawClient("127.0.0.1", srv.port, io_timeout=3.0)
        try:
            refused.send_raw(rawzk.connect_request(10000))
            assert refused.is_closed_by_peer(timeout=3.0), "a 5th connection from 127.0.0.1 was accepted"
        finally:
            refused.close()
        for c in extra_clients:
            c.close_session()
        owner.close_session()
        # The slots are free again once the connections are gone.
        deadline = time.monotonic() + 5
        while True:
            try:
                rawzk.open_session("127.0.0.1", srv.port, io_timeout=1.0).close_session()
                break
            except (OSError, rawzk.ConnectionClosed):
                assert time.monotonic() < deadline, "connections from 127.0.0.1 never freed"
                time.sleep(0.1)


def test_client_port_address_localhost_listens_on_ipv4_loopback(server_factory):
    """ZooKeeper binds InetAddress.getByName("localhost"), IPv4 first."""
    srv = server_factory({"clientPortAddress": "localhost"})
    assert harness.four_letter("127.0.0.1", srv.port, "ruok") == "imok"


def _run_server_with(tmp_path, lines, myid=None):
    """Runs aviary-server on a zoo.cfg of `lines`; returns the finished process
    (a server that does start is stopped by the timeout and fails the test)."""
    data = tmp_path / "data"
    data.mkdir()
    if myid is not None:  # an ensemble member has its myid
        (data / "myid").write_text("%d\n" % myid)
    cfg = tmp_path / "zoo.cfg"
    cfg.write_text("\n".join(["tickTime=100", "dataDir=%s" % data, "clientPort=%d" % harness.free_port(),
                              "clientPortAddress=127.0.0.1", "admin.enableServer=false"] + lines) + "\n")
    try:
        return subprocess.run(harness.server_command(str(cfg)), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=10)
    except subprocess.TimeoutExpired as e:
        pytest.fail("aviary-server started with %s: %s" % (lines, e.stderr))


@pytest.mark.parametrize("lines,key", [
    (["initLimit=5", "syncLimit=2", "standaloneEnabled=false", "server.1=127.0.0.1:2888:3888"],
     "standaloneEnabled=false"),
    # TLS, x509, SASL, quorum SASL and HTTPS admin are served (tests/security, tests/ensemble, tests/admin);
    # turning ACL checks off is not
    (["skipACL=yes"], "skipACL"),
    (["authProvider.1=com.example.CustomAuthenticationProvider"], "authProvider.1"),
])
def test_unsafe_config_stops_the_start_naming_the_key(tmp_path, lines, key):
    if harness.target() != "aviary":
        pytest.skip("Aviary's own start-up check")
    r = _run_server_with(tmp_path, lines, myid=1)
    out = r.stdout + r.stderr
    assert r.returncode != 0, "aviary-server started with %s: %s" % (lines, out[-2000:])
    assert key in out and "refusing to start" in out, out[-2000:]
