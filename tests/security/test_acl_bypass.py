"""ACL bypass attempts (issue 8, item 5): every opcode that checks an ACL in
ZooKeeper 3.8, sent by sessions holding only wrong identities in every
authentication scheme, answers NoAuth (-102) and changes nothing.

One server has TLS with the x509 provider, SASL DIGEST-MD5, digest and ip.
The protected node /p (and its child /p/c) grants ALL to an owner identity
in each scheme (digest owner, ip 10.1.2.3, sasl alice, x509 alice's DN) and,
per variant, some permissions to world:anyone - so an attacker has none, or
some but never the one the op needs. Attackers: world only (plaintext), a
digest user, an ip session from 127.0.0.1, a SASL user, an x509 client, and
one session with all those wrong identities at once.

Which ops check which permission follows ZooKeeper 3.8's
PrepRequestProcessor (create/create2/createContainer/createTTL: CREATE on
the parent; delete: DELETE on the parent; setData: WRITE; setACL: ADMIN;
check: READ; multi: each op's check) and FinalRequestProcessor (getData,
getChildren, getChildren2, getAllChildrenNumber: READ; getACL: READ or
ADMIN since ZOOKEEPER-1392; multiRead: READ per op, as per-op results).
getEphemerals, sync, addWatch and setWatches check no ACL in 3.8; exists
checks READ from 3.8.4 on (Aviary does) but not in Debian's 3.8.0.

The opcodes kazoo has no call for are sent through kazoo's own connection
(a request object with `type`/`serialize`/`deserialize`), so every
session, TLS and SASL included, can send any opcode.
The same test passes against Apache ZooKeeper 3.8 (AVIARY_TARGET=zookeeper
with netty-codec on the class path, as test_tls_zookeeper.py does).
"""

import base64
import hashlib
import socket

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import ACL, Id, Permissions

import harness
import rawzk
import sasl_support as ss

USERS = {"alice": "alicesecret", "bob": "bobsecret"}
ALICE_DN = "CN=alice,OU=eng,O=Example"
NO_AUTH = -102
P, C = "/p", "/p/c"


def owner_acl(world_perms):
    digest = base64.b64encode(hashlib.sha1(b"owner:ownerpw").digest()).decode()
    acl = [ACL(Permissions.ALL, Id("digest", "owner:" + digest)),
           ACL(Permissions.ALL, Id("ip", "10.1.2.3")),
           ACL(Permissions.ALL, Id("sasl", "alice")),
           ACL(Permissions.ALL, Id("x509", ALICE_DN))]
    if world_perms:
        acl.append(ACL(world_perms, Id("world", "anyone")))
    return acl


class RawOp:
    """Any opcode over a kazoo session; the reply body comes back as bytes."""

    def __init__(self, op, body):
        self.type = op
        self.body = body

    def serialize(self):
        return bytearray(self.body)

    def deserialize(self, buf, offset):
        return bytes(buf[offset:])


def send(zk, op, body):
    result = zk.handler.async_result()
    zk._call(RawOp(op, body), result)
    return bytes(result.get(timeout=10))  # kazoo turns a multi reply into a list


def s(path):
    return rawzk.j_string(path)


OPEN = rawzk.j_acls(rawzk.OPEN_ACL_UNSAFE)


def create_body(path, flags=0):
    return s(path) + rawzk.j_buffer(b"evil") + OPEN + rawzk.j_int(flags)


def multi_body(ops):
    out = b""
    for op, body in ops:
        out += rawzk.j_int(op) + rawzk.j_bool(False) + rawzk.j_int(-1) + body
    return out + rawzk.j_int(-1) + rawzk.j_bool(True) + rawzk.j_int(-1)


def multi_errors(reply):
    """Per-op error codes of a multi reply whose ops all failed."""
    r = rawzk.Reader(reply)
    errs = []
    while True:
        op, done = r.int(), r.take(1)[0]
        r.int()  # the header's err; the ErrorResult body follows
        if done:
            return errs
        assert op == -1, "op %d succeeded in %r" % (op, reply)
        errs.append(r.int())


READ, WRITE, CREATE, DELETE, ADMIN = (Permissions.READ, Permissions.WRITE, Permissions.CREATE,
                                      Permissions.DELETE, Permissions.ADMIN)

# (name, permission bits any of which lets the op through, (opcode, body)).
SINGLE_OPS = [
    ("create", CREATE, (1, create_body(P + "/x"))),
    ("create2", CREATE, (15, create_body(P + "/x"))),
    ("createContainer", CREATE, (19, create_body(P + "/x", rawzk.FLAG_CONTAINER))),
    ("createTTL", CREATE, (21, create_body(P + "/x", rawzk.FLAG_PERSISTENT_TTL) + rawzk.j_long(60000))),
    ("createEphemeral", CREATE, (1, create_body(P + "/e", rawzk.FLAG_EPHEMERAL))),
    ("delete", DELETE, (2, s(C) + rawzk.j_int(-1))),
    ("setData", WRITE, (5, s(P) + rawzk.j_buffer(b"evil") + rawzk.j_int(-1))),
    ("setDataChild", WRITE, (5, s(C) + rawzk.j_buffer(b"evil") + rawzk.j_int(-1))),
    ("getData", READ, (4, s(P) + rawzk.j_bool(True))),
    ("getChildren", READ, (8, s(P) + rawzk.j_bool(True))),
    ("getChildren2", READ, (12, s(P) + rawzk.j_bool(False))),
    ("getAllChildrenNumber", READ, (104, s(P))),
    ("getACL", READ | ADMIN, (6, s(P))),
    ("setACL", ADMIN, (7, s(P) + OPEN + rawzk.j_int(-1))),
]
MULTI_OPS = [
    ("multi-create", CREATE, (1, create_body(P + "/m"))),
    ("multi-create2", CREATE, (15, create_body(P + "/m"))),
    ("multi-createTTL", CREATE, (21, create_body(P + "/m", rawzk.FLAG_PERSISTENT_TTL) + rawzk.j_long(60000))),
    ("multi-delete", DELETE, (2, s(C) + rawzk.j_int(-1))),
    ("multi-setData", WRITE, (5, s(P) + rawzk.j_buffer(b"evil") + rawzk.j_int(-1))),
    ("multi-check", READ, (13, s(P) + rawzk.j_int(0))),
]
MULTI_READ_OPS = [
    ("multiRead-getData", READ, (4, s(P) + rawzk.j_bool(False))),
    ("multiRead-getChildren", READ, (8, s(P) + rawzk.j_bool(False))),
]

# exists: Debian's ZooKeeper 3.8.0 checks no ACL; Aviary checks READ on an
# existing node as ZooKeeper 3.8.4 / 3.9.2 do (ZOOKEEPER-2590), so on Aviary
# it is one more op that must be NoAuth.
EXISTS_OP = ("exists", READ, (3, s(P) + rawzk.j_bool(True)))
if ss.target() == "aviary":
    SINGLE_OPS.append(EXISTS_OP)
EXISTS_ERR = NO_AUTH if ss.target() == "aviary" else 0

# world:anyone's permissions on /p in each variant.
VARIANTS = {"none": 0, "read-only": READ, "create-only": CREATE,
            "all-but-read": WRITE | CREATE | DELETE | ADMIN, "read-create": READ | CREATE}


@pytest.fixture
def server(pki, monkeypatch, tmp_path):
    if ss.target() == "zookeeper":  # Netty TLS needs these (test_tls_zookeeper.py)
        monkeypatch.setattr(harness, "ZK_JARS", harness.ZK_JARS + [
            "/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar"])
    jaas = ss.digest_server_jaas(str(tmp_path / "jaas.conf"), USERS)
    cfg = pki.server_cfg()
    srv = ss.start_sasl_server(jaas, extra_cfg=cfg)
    srv.secure_port = int(cfg["secureClientPort"])
    yield srv
    srv.stop()


@pytest.fixture
def sessions(server, pki):
    made = []

    def make(tls_client=None, sasl_user=None, digest=None):
        kw = dict(timeout=10.0)
        port = server.port
        if tls_client:
            key, cert, _ = pki.clients[tls_client]
            kw.update(use_ssl=True, ca=pki.ca_pem, verify_certs=True, keyfile=key, certfile=cert)
            port = server.secure_port
        if sasl_user:
            kw["sasl_options"] = {"mechanism": "DIGEST-MD5", "username": sasl_user,
                                  "password": USERS[sasl_user]}
        if digest:
            kw["auth_data"] = [("digest", digest)]
        zk = KazooClient(hosts="127.0.0.1:%d" % port, **kw)
        made.append(zk)
        zk.start(timeout=20)
        return zk

    yield make
    for zk in made:
        try:
            zk.stop()
            zk.close()
        except Exception:
            pass


def attackers(make):
    """Every scheme's wrong identity, and all of them at once."""
    return {
        "world": make(),
        "ip-127.0.0.1": make(),  # the ACL's ip entry names 10.1.2.3
        "digest-other": make(digest="other:pw"),
        "sasl-bob": make(sasl_user="bob"),
        "x509-bob": make(tls_client="bob"),
        "all-wrong": make(tls_client="bob", sasl_user="bob", digest="other:pw"),
    }


def snapshot(owner):
    out = {}
    for path in (P, C, "/open"):
        data, stat = owner.get(path)
        acls, astat = owner.get_acls(path)
        out[path] = (data, stat, sorted(owner.get_children(path)), [(a.perms, a.id.scheme, a.id.id) for a in acls],
                     astat)
    return out


def expect_no_auth(zk, name, op, body):
    try:
        reply = send(zk, op, body)
    except NoAuthError:
        return
    pytest.fail("%s went through: %r" % (name, reply))


def try_everything(zk, world_perms):
    tried = []
    for name, needs, (op, body) in SINGLE_OPS:
        if needs & world_perms:
            continue
        expect_no_auth(zk, name, op, body)
        tried.append(name)
    for name, needs, sub in MULTI_OPS:
        if needs & world_perms:
            continue
        assert multi_errors(send(zk, 14, multi_body([sub]))) == [NO_AUTH], name
        # A permitted op in the same multi is rolled back with it.
        errs = multi_errors(send(zk, 14, multi_body([(1, create_body("/open/m")), sub])))
        assert errs[0] == 0 and errs[1] == NO_AUTH, (name, errs)
        tried.append(name)
    for name, needs, sub in MULTI_READ_OPS:
        if needs & world_perms:
            continue
        # multiRead answers per op; the whole request is OK (as ZooKeeper).
        assert multi_errors(send(zk, 22, multi_body([sub]))) == [NO_AUTH], name
        tried.append(name)
    return tried


def owner_session(make):
    return make(tls_client="alice", sasl_user="alice", digest="owner:ownerpw")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_opcode_every_scheme_is_no_auth(sessions, variant):
    world_perms = VARIANTS[variant]
    owner = owner_session(sessions)
    owner.create("/open", b"o")
    owner.create(P, b"secret", acl=owner_acl(world_perms))
    owner.create(C, b"child", acl=owner_acl(world_perms))
    owner.set(P, b"secret2")  # a non-zero version to compare
    owner.create(P + "/eph", b"", acl=owner_acl(world_perms), ephemeral=True)
    before = snapshot(owner)
    for who, zk in attackers(sessions).items():
        tried = try_everything(zk, world_perms)
        assert tried, (who, variant)
        # No ACL check in ZooKeeper 3.8, and nothing to learn: sync echoes
        # the path, getEphemerals lists only the caller's own ephemerals.
        assert send(zk, 9, s(P)) == s(P)
        assert send(zk, 103, s(P)) == rawzk.j_int(0)
        assert snapshot(owner) == before, (who, variant)
    assert owner.exists(P) == before[P][1]


def raw_call(c, op, body, xid=None):
    """(err, body) of one request; watch events that arrive are kept in c.frames."""
    xid = c.send_request(op, body, xid=xid)
    while True:
        r = rawzk.Reader(c.read_frame())
        rx, _, err = r.int(), r.long(), r.int()
        if rx == -1:
            c.frames.append(r.rest())
        elif rx == xid:
            return err, r.rest()


def raw_events(c, wait_s=1.0):
    """(type, path) of the events received within wait_s; each event frame
    must hold exactly a WatcherEvent (type, state, path), nothing more."""
    try:
        while True:
            r = rawzk.Reader(c.read_frame(timeout=wait_s))
            if r.int() == -1:
                r.long(), r.int()
                c.frames.append(r.rest())
    except socket.timeout:
        pass
    out = []
    for f in c.frames:
        r = rawzk.Reader(f)
        ev = (r.int(), r.int(), r.string())
        assert r.rest() == b"", "event carries extra bytes: %r" % f
        out.append((ev[0], ev[2]))
    c.frames = []
    return sorted(out)


def raw_attacker(srv, session=None):
    c = rawzk.RawClient(srv.host, srv.port)
    c.frames = []
    if session:
        c.handshake(timeout_ms=20000, session_id=session[0], passwd=session[1])
    else:
        c.handshake(timeout_ms=20000)
    assert raw_call(c, 100, rawzk.j_int(0) + s("digest") + rawzk.j_buffer(b"other:pw"), xid=-4)[0] == 0
    return c


def str_list(paths):
    return rawzk.j_int(len(paths)) + b"".join(s(p) for p in paths)


def test_watches_and_set_watches_leak_no_data(sessions, server):
    """exists watches (see EXISTS_OP), persistent/recursive addWatch and
    setWatches (what a client replays on reconnect) check no ACL in
    ZooKeeper 3.8: the calls
    succeed; a triggered watch's event is sent only to sessions with READ on
    the node; setWatches' immediate events carry type and path only, never
    data; getData/getChildren with a watch are NoAuth and leave no watch.
    Every expectation here is what ZooKeeper 3.8 does."""
    owner = owner_session(sessions)
    owner.create(P, b"secret", acl=owner_acl(0))
    owner.create(C, b"child", acl=owner_acl(0))
    owner.create("/open", b"o")  # readable by all: the control
    c = raw_attacker(server)
    try:
        assert raw_call(c, 3, s(P) + rawzk.j_bool(True))[0] == EXISTS_ERR  # exists + watch
        assert raw_call(c, 3, s("/open") + rawzk.j_bool(True))[0] == 0
        assert raw_call(c, 4, s(C) + rawzk.j_bool(True))[0] == NO_AUTH  # no watch left
        assert raw_call(c, 8, s(C) + rawzk.j_bool(True))[0] == NO_AUTH
        assert raw_call(c, 106, s(P) + rawzk.j_int(1)) == (0, rawzk.j_int(0))  # recursive
        owner.set(P, b"secret-1")
        owner.set(C, b"child-1")
        owner.create(C + "/g", b"grandchild", acl=owner_acl(0))
        owner.set("/open", b"o1")
        # ZooKeeper 3.8 checks READ before it sends a triggered watch's
        # event (exists and persistent alike): only the control's arrives.
        assert raw_events(c) == [(3, "/open")]
        session = (c.session_id, c.passwd)
    finally:
        c.close()
    # A new connection of the same session replays watches with setWatches
    # (opcode 101) on nodes it cannot read: relativeZxid 0, so ZooKeeper
    # fires at once for what changed since.
    c = raw_attacker(server, session)
    try:
        body = rawzk.j_long(0) + str_list([P, C, "/open"]) + str_list([]) + str_list([P, C])
        assert raw_call(c, 101, body)[0] == 0
        # setWatches' immediate events are not ACL-checked by ZooKeeper 3.8:
        # every replayed path changed after zxid 0, so each fires - type and
        # path only (raw_events checks no byte follows the path). Aviary
        # withholds them from a session that may not READ the node, as it
        # does for triggered watches (src/server/core_request.cc SetWatches):
        # deliberately stricter than ZooKeeper.
        expected = [(3, "/open")]
        if ss.target() != "aviary":
            expected = sorted(expected + [(3, P), (3, C), (4, P), (4, C)])
        assert raw_events(c) == expected
        assert raw_call(c, 4, s(P) + rawzk.j_bool(False))[0] == NO_AUTH
    finally:
        c.close()
    assert owner.get(P)[0] == b"secret-1"
