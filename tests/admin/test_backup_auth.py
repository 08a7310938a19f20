"""snapshot / restore (ZooKeeper 3.9's SnapshotCommand and RestoreCommand):
authentication as 3.9 (401 without or with bad credentials, 403 without the
permission on /), the streamed snapshot in ZooKeeper's file format (read
back by Apache ZooKeeper 3.8 itself), and a restore round trip that survives
a restart."""

import os
import shutil
import struct
import subprocess
import tempfile
import time

from kazoo.client import KazooClient
from kazoo.security import ACL, Id, Permissions, make_digest_acl

import conftest
from http_admin import command, request

SUPER = {"Authorization": "digest super:secret"}


def client(srv, auth=None):
    zk = KazooClient(hosts=srv.hostport, timeout=10.0, auth_data=auth)
    zk.start(timeout=15)
    return zk


def take_snapshot(port, headers=SUPER, query=""):
    return request(port, "/commands/snapshot" + query, headers=headers)


def test_snapshot_needs_authentication(aviary):
    port = aviary.admin_port
    status, _, body = take_snapshot(port, headers={})
    assert status == 401 and b"Auth info is missing for the command" in body
    for bad in ["nosuchscheme foo", "digest", "a b c", "x509"]:
        status, _, body = take_snapshot(port, headers={"Authorization": bad})
        assert status == 401 and b"Not authenticated" in body, bad
    status, _, body = request(port, "/commands/restore", method="POST", body=b"x")
    assert status == 401


def test_snapshot_permission_on_root_acl(aviary):
    port = aviary.admin_port
    # The root is world:anyone ALL: any authenticated id may.
    status, headers, body = take_snapshot(port, headers={"Authorization": "digest anyone:pw"})
    assert status == 200 and body[:4] == b"ZKSN"
    time.sleep(0.05)
    zk = client(aviary, auth=[("digest", "backup:pw")])
    try:
        zk.set_acls("/", [make_digest_acl("backup", "pw", all=True)])
    finally:
        zk.stop()
        zk.close()
    status, _, body = take_snapshot(port, headers={"Authorization": "digest other:pw"})
    assert status == 403 and b"Not authorized" in body
    status, _, body = take_snapshot(port, headers={"Authorization": "ip 127.0.0.1"})
    assert status == 403
    time.sleep(0.05)
    status, _, body = take_snapshot(port, headers={"Authorization": "digest backup:pw"})
    assert status == 200 and body[:4] == b"ZKSN"
    time.sleep(0.05)
    status, _, body = take_snapshot(port, headers=SUPER)  # superDigest passes every ACL
    assert status == 200
    # The ip scheme: the caller's address against an ip ACL ("ip" alone, as ZooKeeper's).
    zk = client(aviary, auth=[("digest", "super:secret")])
    try:
        zk.set_acls("/", [make_digest_acl("backup", "pw", all=True)] +
                    [ACL(Permissions.ALL, Id("ip", "127.0.0.1"))])
    finally:
        zk.stop()
        zk.close()
    time.sleep(0.05)
    status, _, body = take_snapshot(port, headers={"Authorization": "ip"})
    assert status == 200 and body[:4] == b"ZKSN"


def test_snapshot_headers_and_streaming_flag(aviary):
    port = aviary.admin_port
    zk = client(aviary)
    try:
        zk.create("/h", b"1")
        zxid = zk.exists("/h").mzxid
    finally:
        zk.stop()
        zk.close()
    status, headers, body = take_snapshot(port)
    assert status == 200
    assert headers["content-type"] == "application/octet-stream"
    assert int(headers["last_zxid"], 16) >= zxid
    assert int(headers["snapshot_size"]) == len(body)
    time.sleep(0.05)
    status, headers, body = take_snapshot(port, query="?streaming=false")
    assert status == 200 and b'"command": "snapshot"' in body and int(headers["snapshot_size"]) > 0


def test_snapshot_read_by_apache_zookeeper(aviary, tmp_path):
    """The streamed file is a ZooKeeper snapshot: ZooKeeper 3.8 starts from it."""
    zk = client(aviary)
    try:
        zk.create("/fromaviary", b"payload")
        zk.create("/fromaviary/child", b"c")
    finally:
        zk.stop()
        zk.close()
    status, headers, body = take_snapshot(aviary.admin_port)
    assert status == 200
    data = tmp_path / "zkdata" / "version-2"
    data.mkdir(parents=True)
    (data / ("snapshot.%x" % int(headers["last_zxid"], 16))).write_bytes(body)
    port = conftest.free_port()
    cfg = tmp_path / "zoo.cfg"
    cfg.write_text("tickTime=2000\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                   "admin.enableServer=false\n" % (tmp_path / "zkdata", port))
    proc = subprocess.Popen(["java", "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                             ":".join(conftest.harness.ZK_JARS), "org.apache.zookeeper.server.ZooKeeperServerMain",
                             str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=10.0)
        zk.start(timeout=40)
        try:
            assert zk.get("/fromaviary")[0] == b"payload"
            assert zk.get_children("/fromaviary") == ["child"]
        finally:
            zk.stop()
            zk.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_restore_round_trip_survives_restart(aviary):
    port = aviary.admin_port
    zk = client(aviary)
    try:
        zk.create("/keep", b"before")
        zk.create("/keep/a", b"1")
    finally:
        zk.stop()
        zk.close()
    status, headers, backup = take_snapshot(port)
    assert status == 200
    zk = client(aviary)
    try:
        zk.delete("/keep/a")
        zk.set("/keep", b"after")
        zk.create("/later", b"")
    finally:
        zk.stop()
        zk.close()
    status, _, body = request(port, "/commands/restore", method="POST", body=backup, headers=SUPER)
    assert status == 200, body
    import json
    answer = json.loads(body)
    assert answer["command"] == "restore" and answer["error"] is None and answer["last_zxid"] > 0

    def check():
        zk = client(aviary)
        try:
            assert zk.get("/keep")[0] == b"before"
            assert zk.get_children("/keep") == ["a"]
            assert zk.exists("/later") is None
            zk.ensure_path("/written-after-restore")  # writes go on
        finally:
            zk.stop()
            zk.close()
    check()
    # A second restore within admin.rateLimiterIntervalInMS is refused.
    status, _, _ = request(port, "/commands/restore", method="POST", body=backup, headers=SUPER)
    assert status == 429
    time.sleep(2.0)  # the restore's snapshot is written in the background
    aviary.proc.send_signal(15)
    aviary.proc.wait(timeout=20)
    aviary.proc = subprocess.Popen(conftest.harness.server_command(aviary.cfg_path), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=aviary.workdir,
                                   start_new_session=True)
    check()  # the restored state came back from the disk


def test_restore_rejects_garbage(aviary):
    status, _, body = request(aviary.admin_port, "/commands/restore", method="POST", body=b"not a snapshot" * 10,
                              headers=SUPER)
    assert status == 500
    zk = client(aviary)
    try:
        assert zk.exists("/zookeeper") is not None  # still serving
    finally:
        zk.stop()
        zk.close()
