"""Malformed input on raw sockets. Each case asserts what ZooKeeper 3.8 does
(connection closed without reply, or a specific error reply) and then that
a fresh, well-behaved kazoo client still works."""

import itertools
import struct

import pytest

import harness
import rawzk
from rawzk import frame, read_all_until_close
from rawzk import RawClient, j_bool, j_int, j_string

MAX_BUFFER = 0xFFFFF  # default jute.maxbuffer
_health_counter = itertools.count()


@pytest.fixture
def check_healthy(server, zk_factory):
    def check():
        assert server.alive()
        c = zk_factory()
        path = "/healthy_%d" % next(_health_counter)
        c.create(path, b"ok", ephemeral=True)
        assert c.get(path)[0] == b"ok"
        c.delete(path)
    return check


def raw(server):
    return RawClient(server.host, server.port, io_timeout=5.0)




@pytest.mark.parametrize("payload", [
    b"\xde\xad\xbe\xef" * 8,                          # negative length
    b"hello world, this is not zookeeper\n",          # length 0x68656c6c > maxbuffer
    struct.pack(">i", 0),                             # empty connect request
    struct.pack(">i", -5) + b"abcde",
    struct.pack(">i", 8) + b"\0" * 8,                 # connect request too short
], ids=["deadbeef", "text", "zero_len", "negative_len", "short_connect"])
def test_garbage_before_handshake_closes_without_reply(server, check_healthy, payload):
    c = raw(server)
    c.send_raw(payload)
    assert read_all_until_close(c) == b""
    c.close()
    check_healthy()


def test_truncated_frame_then_close(server, check_healthy):
    c = raw(server)
    c.send_raw(struct.pack(">i", 45) + b"\0" * 10)
    c.close()
    c = raw(server)
    c.handshake()
    c.send_raw(struct.pack(">i", 100) + b"\0" * 10)
    c.close()
    check_healthy()


@pytest.mark.parametrize("after_handshake", [False, True])
def test_length_above_maxbuffer_closes(server, check_healthy, after_handshake):
    c = raw(server)
    if after_handshake:
        c.handshake()
    c.send_raw(struct.pack(">i", MAX_BUFFER + 1) + b"\0" * 64)
    assert read_all_until_close(c) == b""
    c.close()
    check_healthy()


@pytest.mark.parametrize("length", [0, -1, 4], ids=["zero", "negative", "short_header"])
def test_bad_frame_after_handshake_closes(server, check_healthy, length):
    c = raw(server)
    c.handshake()
    c.send_raw(struct.pack(">i", length) + (b"\0\0\0\1" if length == 4 else b""))
    assert read_all_until_close(c) == b""
    c.close()
    check_healthy()


@pytest.mark.parametrize("opcode", [999, 50, 10, 0, -100])
def test_unknown_opcode_gets_unimplemented_then_close(server, check_healthy, opcode):
    c = raw(server)
    c.handshake()
    c.send_request(opcode, j_string("/") + j_bool(False))
    data = read_all_until_close(c)
    # One reply: xid echoed, zxid -1, err UNIMPLEMENTED (-6); then the
    # server closes the connection.
    assert data == frame(j_int(1) + struct.pack(">q", -1) + j_int(-6))
    c.close()
    check_healthy()


def test_second_connect_request_is_an_unknown_op(server, check_healthy):
    c = raw(server)
    c.handshake()
    c.send_raw(rawzk.connect_request())  # xid 0, type 0 (high word of lastZxid)
    assert read_all_until_close(c) == frame(j_int(0) + struct.pack(">q", -1) + j_int(-6))
    c.close()
    check_healthy()


def test_truncated_request_body_gets_marshalling_error(server, check_healthy):
    c = raw(server)
    c.handshake()
    # create whose path string claims 100 bytes but carries 3.
    xid = c.send_request(rawzk.OP_CREATE, j_int(100) + b"/ab")
    _zxid, err, body = c.read_reply(xid)
    assert err == -5 and body.rest() == b""  # MARSHALLINGERROR, connection kept
    assert c.ping() == 0
    assert c.exists("/")[0] == 0
    c.close_session()
    check_healthy()


def test_connect_without_readonly_flag(server):
    c = raw(server)
    body = rawzk.connect_request()[4:-1]  # old clients omit the readOnly byte
    c.send_raw(frame(body))
    reply = c.read_frame()
    assert len(reply) == 36  # and the reply omits it too (37 with it)
    c.close()
    c = raw(server)
    c.send_raw(rawzk.connect_request())
    assert len(c.read_frame()) == 37
    c.close()


@pytest.mark.parametrize("make_bad", ["wrong_password", "unknown_session"])
def test_bad_session_reconnect_gets_zero_session_then_close(server, zk, base, check_healthy,
                                                            make_bad):
    good = rawzk.open_session(server.host, server.port, timeout_ms=10000)
    assert good.create(base + "/eph", flags=rawzk.FLAG_EPHEMERAL)[0] == 0
    c = raw(server)
    if make_bad == "wrong_password":
        c.send_raw(rawzk.connect_request(10000, good.session_id, b"x" * 16))
    else:
        c.send_raw(rawzk.connect_request(10000, 0x123456789, b"\0" * 16))
    r = rawzk.Reader(c.read_frame())
    assert r.int() == 0 and r.int() == 0 and r.long() == 0  # version, timeout 0, session 0
    assert r.buffer() == b"\0" * 16
    assert read_all_until_close(c) == b""
    c.close()
    if make_bad == "wrong_password" and harness.target() == "zookeeper":
        # ZooKeeper drops the session's current connection *before* checking
        # the password; the session itself survives.
        assert good.is_closed_by_peer(timeout=3)
        sid, pw = good.session_id, good.passwd
        good.close()
        good = RawClient(server.host, server.port)
        assert good.handshake(10000, session_id=sid, passwd=pw)[1] == sid
    elif make_bad == "wrong_password":
        # Aviary checks the password first: a stranger who knows a session id
        # cannot disconnect its owner (docs/COMPATIBILITY.md).
        assert not good.is_closed_by_peer(timeout=0.5)
    assert good.ping() == 0
    assert zk.exists(base + "/eph") is not None
    good.close_session()
    assert zk.exists(base + "/eph") is None
    check_healthy()


def test_session_timeout_is_clamped(server):
    lo = rawzk.open_session(server.host, server.port, timeout_ms=1)
    hi = rawzk.open_session(server.host, server.port, timeout_ms=10 ** 6)
    assert lo.timeout_ms == 400 and hi.timeout_ms == 20000  # min/maxSessionTimeout
    lo.close_session()
    hi.close_session()


@pytest.mark.parametrize("path,flags,err", [
    ("noslash", 0, -8),
    ("", 0, -8),
    ("/a\x00b", 0, -8),
    ("/a\x01b", 0, -8),
    ("{p}/", 0, -8),           # trailing slash
    ("{p}/.", 0, -8),
    ("{p}/..", 0, -8),
    ("{p}/", 2, 0),            # sequential: "{p}/0000000000" is valid
    ("{p}//b", 0, -101),       # parent "{p}/" is looked up first: NONODE
    ("{p}/./b", 0, -101),
    ("{p}/missing/", 0, -101),
    ("/", 0, -110),            # root exists
])
def test_invalid_path_in_create(server, zk, base, check_healthy, path, flags, err):
    c = rawzk.open_session(server.host, server.port)
    got, _res = c.create(path.format(p=base), flags=flags)
    assert got == err
    assert c.ping() == 0  # connection stays usable
    c.close_session()
    check_healthy()


def test_invalid_path_in_other_ops(server, base, check_healthy):
    c = rawzk.open_session(server.host, server.port)
    assert c.set_data(base + "/", b"x")[0] == -8
    assert c.delete("noslash") == -8
    assert c.delete(base + "/") == -101
    assert c.get_data(base + "/")[0] == -101
    assert c.get_data("noslash")[0] == -101
    assert c.exists("noslash")[0] == -101
    c.close_session()
    check_healthy()
