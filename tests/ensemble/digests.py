"""The tree digest across replicas (issue 7, item 3): a leader's PROPOSALs
carry ZooKeeper's TxnDigest (the digest of the tree after the txn) and every
member compares it with its own tree after applying; a mismatch is counted in
mntr zk_digest_mismatches_count (both kinds) and logged ("Digests are not
matching", both kinds).

workload() writes every kind of txn the digest covers; check_no_mismatch()
asserts that no member counted or logged a mismatch; logged_digests() counts
the txns in a ZooKeeper member's own txn log that carry a TxnDigest (what it
received from its leader), so that "no mismatch" is not vacuous;
aviary_logged_digests() the same for an Aviary member's log (the digest is
logged with each txn so that a DIFF from the log sends it again).
"""

import collections
import glob
import os
import struct
import time

from kazoo.exceptions import BadVersionError, NodeExistsError
from kazoo.protocol.serialization import Create, long_struct
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE

import checks


class CreateContainer(Create):
    """createContainer (19): CreateRequest with flags 4 (kazoo has no call)."""
    type = 19


class CreateTTL(collections.namedtuple("CreateTTL", "path data acl flags ttl")):
    """createTTL (21): CreateTTLRequest {path, data, acl, flags, long ttl}."""
    type = 21

    def serialize(self):
        return Create(self.path, self.data, self.acl, self.flags).serialize() + long_struct.pack(self.ttl)

    @classmethod
    def deserialize(cls, data, offset):
        return Create.deserialize(data, offset)


def raw(client, request, timeout=10.0):
    result = client.handler.async_result()
    client._call(request, result)
    return result.get(timeout=timeout)


def workload(ens, clients, via, other, prefix="/dg"):
    """create (plain, sequential, ephemeral, ephemeral sequential, container,
    TTL), setData, setACL, delete, a multi that succeeds and one that fails,
    a failing single op (no digest), and a closeSession that deletes the
    session's ephemerals, through members `via` and `other`."""
    c = checks.pinned(clients, via)
    o = checks.pinned(clients, other)
    c.create(prefix, b"root")
    c.create(prefix + "/p", b"p")
    for _ in range(3):
        c.create(prefix + "/p/seq-", b"s", sequence=True)
    o.set(prefix + "/p", b"p2")
    c.set_acls(prefix + "/p", [make_digest_acl("u", "pw", all=True)] + list(OPEN_ACL_UNSAFE))
    c.create(prefix + "/gone", b"g")
    o.delete(prefix + "/gone")
    try:
        c.create(prefix + "/p", b"again")  # an error txn: it carries no digest
    except NodeExistsError:
        pass
    t = c.transaction()
    t.create(prefix + "/m", b"m")
    t.create(prefix + "/m/x", b"x")
    t.set_data(prefix + "/m", b"mm")
    t.check(prefix + "/m", 1)
    t.delete(prefix + "/m/x")
    results = t.commit()
    assert not any(isinstance(r, Exception) for r in results), "multi failed: %r" % (results,)
    t = o.transaction()
    t.create(prefix + "/never", b"n")
    t.check(prefix + "/m", 99)  # fails: the whole multi is error txns
    assert any(isinstance(r, BadVersionError) for r in t.commit())
    raw(c, CreateContainer(prefix + "/c", b"", OPEN_ACL_UNSAFE, 4))
    c.create(prefix + "/c/k", b"k")
    c.delete(prefix + "/c/k")  # the container is now a cleanup candidate
    raw(c, CreateTTL(prefix + "/t", b"ttl", OPEN_ACL_UNSAFE, 5, 1000))  # PERSISTENT_WITH_TTL
    e = checks.pinned(clients, other)
    e.create(prefix + "/p/eph", b"e", ephemeral=True)
    e.create(prefix + "/p/eseq-", b"e", ephemeral=True, sequence=True)
    e.create(prefix + "/eph", b"e", ephemeral=True)
    e.stop()  # closeSession: deletes the three ephemerals
    e.close()
    for i in range(20):
        (c if i % 2 else o).create("%s/n%02d" % (prefix, i), b"%d" % i)


def mismatches(member):
    v = member.mntr().get("zk_digest_mismatches_count")
    assert v is not None, "member %d (%s): no zk_digest_mismatches_count in mntr" % (member.sid, member.kind)
    return int(v.strip())


def check_no_mismatch(ens, members=None):
    for m in members or [m for m in ens.members if m.alive()]:
        n = mismatches(m)
        assert n == 0, "member %d (%s) counted %d digest mismatches:\n%s" % (m.sid, m.kind, n, m.log_tail())
        log = m.log_since(0)
        assert "Digests are not matching" not in log, "member %d (%s) logged a digest mismatch" % (m.sid, m.kind)


def logged_digests(member):
    """(txns, txns with a TxnDigest) in a ZooKeeper member's log.<zxid>
    files: each record is a checksum (8), a length (4), the txn bytes and
    'B'; a txn with a digest ends with {int version 2; long digest}."""
    total = with_digest = 0
    for path in glob.glob(os.path.join(member.version_dir(), "log.*")):
        with open(path, "rb") as f:
            data = f.read()
        pos = 16  # FileHeader
        while pos + 12 <= len(data):
            (length,) = struct.unpack(">i", data[pos + 8:pos + 12])
            if length <= 0 or pos + 12 + length + 1 > len(data):
                break
            txn = data[pos + 12:pos + 12 + length]
            total += 1
            if length >= 44 and struct.unpack(">i", txn[-12:-8])[0] == 2:
                with_digest += 1
            pos += 12 + length + 1
    return total, with_digest


def aviary_logged_digests(member):
    """(txns, txns with a TxnDigest) in an Aviary member's log segments
    (docs/format/wal.md): a 32-byte header (magic AVIARYWL), then records of
    {int length; int crc; payload}, a zero length ending the data; a payload
    starting with codec version 2 carries the digest it was proposed with."""
    total = with_digest = 0
    for path in glob.glob(os.path.join(member.version_dir(), "log.*")):
        with open(path, "rb") as f:
            data = f.read()
        if not data.startswith(b"AVIARYWL"):
            continue
        pos = 32
        while pos + 8 <= len(data):
            (length,) = struct.unpack(">i", data[pos:pos + 4])
            if length <= 0 or pos + 8 + length > len(data):
                break
            total += 1
            with_digest += data[pos + 8] == 2
            pos += 8 + length
    return total, with_digest


def logged(member):
    """(txns, txns with a digest) in `member`'s own log, of either kind."""
    return logged_digests(member) if member.kind == "zookeeper" else aviary_logged_digests(member)


def wait_swept(ens, clients, member, paths, timeout=30.0):
    """Waits until the leader's container / TTL sweep has deleted `paths`."""
    c = checks.pinned(clients, member)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(c.exists(p) is None for p in paths):
            return True
        time.sleep(0.2)
    return False
