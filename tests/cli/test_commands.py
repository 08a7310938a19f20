"""Every zkCli command one-shot, against Aviary and ZooKeeper 3.8 (the
`target` fixture), checking effects through an independent kazoo client,
the text output, the --json document and the exit status."""

import re

import waits

from kazoo.security import make_digest_acl


def stat_block(text):
    return dict(re.match(r"(\w+) = (.*)", x).groups() for x in text.splitlines() if " = " in x)


def test_create_variants(cli, zk, base):
    r = cli("create", base + "/p", "hello")
    assert r.rc == 0 and r.err.strip() == "Created %s/p" % base and r.out == ""
    assert zk.get(base + "/p")[0] == b"hello"
    r = cli("create", "-s", base + "/p/s-", "x")
    assert r.rc == 0 and r.err.strip() == "Created %s/p/s-0000000000" % base
    r = cli("create", "-e", base + "/p/e")
    assert r.rc == 0
    assert zk.exists(base + "/p/e") is None  # the CLI's session ended with the command
    # A container goes once its last child went; a TTL node once its TTL passed
    # (both servers reap every 100 ms in this suite).
    r = cli("create", "-c", base + "/c")
    assert r.rc == 0 and cli("create", base + "/c/k").rc == 0
    assert cli("delete", base + "/c/k").rc == 0
    waits.wait_until(lambda: zk.exists(base + "/c") is None, what="container reaped")
    r = cli("create", "-t", "300", base + "/ttl", "t")
    assert r.rc == 0 and zk.get(base + "/ttl")[0] == b"t"
    waits.wait_until(lambda: zk.exists(base + "/ttl") is None, what="TTL node reaped")
    r = cli("create", base + "/nodata")
    assert r.rc == 0 and zk.get(base + "/nodata")[0] in (b"", None)
    r = cli("create", base + "/acl", "d", "world:anyone:r")
    assert r.rc == 0 and [(a.perms, a.id.scheme) for a in zk.get_acls(base + "/acl")[0]] == [(1, "world")]


def test_create_errors(cli, base):
    r = cli("create", base + "/x")
    r = cli("create", base + "/x")
    assert r.rc == 1 and r.err.strip() == "Node already exists: %s/x" % base
    r = cli("create", base + "/missing/child")
    assert r.rc == 1 and "Node does not exist: %s/missing/child" % base in r.err
    r = cli("create", "-c", "-e", base + "/y")
    assert r.rc == 1 and "-c cannot be combined with -s or -e" in r.err
    r = cli("create", "-t", "100", "-e", base + "/y")
    assert r.rc == 1 and "TTLs cannot be used with Ephemeral znodes" in r.err
    r = cli("create", "noslash")
    assert r.rc == 1 and "Path must start with / character" in r.err
    r = cli("create", "-e", base + "/eph")
    assert r.rc == 0
    r = cli("create", base)
    assert r.rc == 1
    r = cli("create", "--json", base + "/x")
    assert r.rc == 1
    doc = r.json()
    assert doc["ok"] is False and doc["error"] == "NODEEXISTS" and doc["code"] == -110


def test_get_and_stat(cli, zk, base):
    zk.create(base + "/g", b"value")
    zk.set(base + "/g", b"value2")
    r = cli("get", base + "/g")
    assert r.rc == 0 and r.out == "value2\n"
    r = cli("get", "-s", base + "/g")
    lines = r.out.splitlines()
    assert lines[0] == "value2"
    st = stat_block(r.out)
    zst = zk.exists(base + "/g")
    assert st["dataVersion"] == "1" and st["dataLength"] == "6" and st["numChildren"] == "0"
    assert int(st["cZxid"], 16) == zst.czxid and int(st["mZxid"], 16) == zst.mzxid
    assert st["ephemeralOwner"] == "0x0"
    assert list(st) == ["cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion",
                        "aclVersion", "ephemeralOwner", "dataLength", "numChildren"]
    r = cli("stat", base + "/g")
    assert r.rc == 0 and stat_block(r.out) == st
    doc = cli("get", base + "/g", json=True).json()
    assert doc["ok"] and doc["data"] == "value2" and doc["data_base64"] == "dmFsdWUy"
    assert doc["stat"]["dataVersion"] == 1 and doc["stat"]["mZxid"] == zst.mzxid
    assert doc["stat"]["ctime"] == zst.ctime
    zk.create(base + "/bin", b"\xff\x00\x01")
    doc = cli("get", base + "/bin", json=True).json()
    assert doc["data"] is None and doc["data_base64"] == "/wAB"
    assert cli("get", "-b", base + "/g").out == "dmFsdWUy\n"
    # -x: Netty's prettyHexDump, as zkCli 3.9 prints it.
    assert cli("get", "-x", base + "/g").out == (
        "         +-------------------------------------------------+\n"
        "         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n"
        "+--------+-------------------------------------------------+----------------+\n"
        "|00000000| 76 61 6c 75 65 32                               |value2          |\n"
        "+--------+-------------------------------------------------+----------------+\n")
    r = cli("get", base + "/none")
    assert r.rc == 1 and r.err.strip() == "Node does not exist: %s/none" % base
    r = cli("stat", base + "/none")
    assert r.rc == 1 and r.err.strip() == "Node does not exist: %s/none" % base


def test_set_and_delete(cli, zk, base):
    zk.create(base + "/s", b"a")
    r = cli("set", base + "/s", "b")
    assert r.rc == 0 and r.out == "" and zk.get(base + "/s")[0] == b"b"
    r = cli("set", "-s", "-v", "1", base + "/s", "c")
    assert r.rc == 0 and stat_block(r.out)["dataVersion"] == "2"
    r = cli("set", "-v", "7", base + "/s", "d")
    assert r.rc == 1 and r.err.strip() == "version No is not valid : %s/s" % base
    assert zk.get(base + "/s")[0] == b"c"
    r = cli("delete", "-v", "9", base + "/s")
    assert r.rc == 1 and "version No is not valid" in r.err
    zk.create(base + "/s/child")
    r = cli("delete", base + "/s")
    assert r.rc == 1 and r.err.strip() == "Node not empty: %s/s" % base
    r = cli("delete", base + "/s/child")
    assert r.rc == 0 and zk.exists(base + "/s/child") is None
    r = cli("delete", "-v", "2", base + "/s")
    assert r.rc == 0 and zk.exists(base + "/s") is None
    assert cli("delete", base + "/s").rc == 1


def test_ls_variants(cli, zk, base):
    for p in ("b", "a", "c", "a/x", "a/y", "c/z"):
        zk.create(base + "/" + p)
    r = cli("ls", base)
    assert r.rc == 0 and r.out == "[a, b, c]\n"
    r = cli("ls", "-s", base)
    assert r.out.splitlines()[0] == "[a, b, c]" and stat_block(r.out)["numChildren"] == "3"
    r = cli("ls", "-R", base)
    assert r.out.splitlines() == [base, base + "/a", base + "/b", base + "/c", base + "/a/x",
                                  base + "/a/y", base + "/c/z"]
    doc = cli("ls", base, json=True).json()
    assert doc["children"] == ["a", "b", "c"] and doc["stat"]["numChildren"] == 3
    assert cli("ls", base + "/nope").rc == 1
    r = cli("getAllChildrenNumber", base)
    assert r.rc == 0 and r.out == "6\n"
    assert cli("getAllChildrenNumber", base, json=True).json()["count"] == 6


def test_deleteall(cli, zk, base):
    for p in ("d", "d/1", "d/1/2", "d/3"):
        zk.create(base + "/" + p)
    r = cli("deleteall", base + "/d", "-b", "2")
    assert r.rc == 0 and zk.exists(base + "/d") is None
    zk.create(base + "/e")
    assert cli("deleteall", base + "/e").rc == 0 and zk.exists(base + "/e") is None
    r = cli("deleteall", base + "/none")
    assert r.rc == 1 and "Node does not exist" in r.err


def test_acl_commands(cli, zk, base):
    zk.create(base + "/a", b"x")
    r = cli("getAcl", base + "/a")
    assert r.rc == 0 and r.out == "'world,'anyone\n: cdrwa\n"
    r = cli("setAcl", "-s", base + "/a", "world:anyone:rw,ip:127.0.0.1:cdrwa")
    assert r.rc == 0 and stat_block(r.out)["aclVersion"] == "1"
    acls = sorted((a.id.scheme, a.id.id, a.perms) for a in zk.get_acls(base + "/a")[0])
    assert acls == [("ip", "127.0.0.1", 31), ("world", "anyone", 3)]
    r = cli("getAcl", "-s", base + "/a")
    assert "'ip,'127.0.0.1\n: cdrwa\n" in r.out and "'world,'anyone\n: rw\n" in r.out
    assert stat_block(r.out)["aclVersion"] == "1"
    doc = cli("getAcl", base + "/a", json=True).json()
    assert {"scheme": "world", "id": "anyone", "perms": "rw"} in doc["acl"]
    r = cli("setAcl", "-v", "5", base + "/a", "world:anyone:cdrwa")
    assert r.rc == 1 and "version No is not valid" in r.err
    zk.create(base + "/r")
    zk.create(base + "/r/k")
    assert cli("setAcl", "-R", base + "/r", "world:anyone:cdr").rc == 0
    assert zk.get_acls(base + "/r/k")[0][0].perms == 13


def test_addauth_and_whoami(cli, zk, base):
    zk.create(base + "/sec", b"s")
    zk.set_acls(base + "/sec", [make_digest_acl("bob", "secret", all=True)])
    r = cli("get", base + "/sec")
    assert r.rc == 1 and r.err.strip() == "Insufficient permission : %s/sec" % base
    # One-shot runs one command per session: addauth + get go through stdin.
    r = cli(input="addauth digest bob:secret\nget %s/sec\nwhoami\nquit\n" % base)
    assert "\ns\n" in r.out, r
    assert "Auth scheme: User" in r.out and "digest: bob" in r.out and "ip: 127.0.0.1" in r.out
    doc = cli("whoami", json=True).json()
    assert {"scheme": "ip", "user": "127.0.0.1"} in doc["identities"]


def test_sync_config_ephemerals(cli, zk, base):
    r = cli("sync", base)
    assert r.rc == 0 and r.out == "Sync is OK\n"
    r = cli("config")
    assert r.rc == 0
    r = cli(input="create -e %s/e1\ncreate -e %s/e2\ngetEphemerals %s\nquit\n" % (base, base, base))
    assert "[%s/e1, %s/e2]" % (base, base) in r.out or "[%s/e2, %s/e1]" % (base, base) in r.out
    r = cli("getEphemerals", base)
    assert r.rc == 0 and r.out == "[]\n"


def test_watches(cli, zk, base):
    zk.create(base + "/w", b"1")
    script = ("addWatch -m PERSISTENT %s/w\nget -w %s/w\nls -w %s\nprintwatches\n"
              "removewatches %s -c\nremovewatches %s/w\nquit\n") % (base, base, base, base, base)
    r = cli(input=script)
    assert "printwatches is on" in r.out
    assert "No such watcher" not in r.err, r
    r = cli("removewatches", base + "/w")
    assert r.rc == 1 and "No such watcher" in r.err
    r = cli("addWatch", "-m", "bogus", base)
    assert r.rc == 1 and "addWatch [-m mode] path" in r.err


def test_watch_event_printed(cli, zk, base, srv):
    import subprocess
    import threading
    import time
    import conftest
    zk.create(base + "/ev", b"1")
    p = subprocess.Popen([conftest.CLI, "-server", srv.hostport], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []

    def read():
        for ln in p.stdout:
            lines.append(ln)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def wait_line(pred, what):
        # The CLI flushes after each command and each event. Waiting for
        # what it printed, not a fixed 1 s / 0.5 s: a loaded machine (the
        # sanitizer build) may start it or deliver the event later.
        deadline = time.monotonic() + 30
        while not any(pred(ln.rstrip("\n")) for ln in list(lines)):
            assert time.monotonic() < deadline and p.poll() is None, "no %s from the CLI: %r" % (what, lines)
            time.sleep(0.05)

    p.stdin.write("get -w %s/ev\n" % base)
    p.stdin.flush()
    wait_line(lambda ln: ln == "1", "get output")  # the watch is set
    zk.set(base + "/ev", b"2")
    event = "WatchedEvent state:SyncConnected type:NodeDataChanged path:%s/ev" % base
    wait_line(lambda ln: ln == event, "NodeDataChanged event")
    p.stdin.write("quit\n")
    p.stdin.flush()
    p.wait(timeout=10)
    reader.join(timeout=10)
    out = "".join(lines)
    assert "WatchedEvent state:SyncConnected type:None path:null" in out
    assert event in out


def test_exit_status_and_usage(cli):
    r = cli("version")
    assert r.rc == 0 and r.out.startswith("Aviary CLI version: ")
    r = cli("nosuchcommand")
    assert r.rc == 127 and "Command not found: nosuchcommand" in r.err
    r = cli("get")
    assert r.rc == 1 and "get [-s] [-w] [-b] [-x] path" in r.err
    r = cli("ls", "-Z", "/")
    assert r.rc == 1 and "Unrecognized option: -Z" in r.err


def test_unreachable_server():
    import conftest
    import harness
    r = conftest.run_cli("127.0.0.1:%d" % harness.free_port(), "-timeout", "1000", "ls", "/")
    assert r.rc == 1 and "Unable to connect" in r.err


def test_read_only_flag_and_multi_host(cli, srv, zk, base):
    import conftest
    import harness
    dead = "127.0.0.1:%d" % harness.free_port()
    r = conftest.run_cli(dead + "," + srv.hostport, "ls", base)
    assert r.rc == 0 and r.out == "[]\n"
    r = conftest.run_cli(srv.hostport, "-r", "ls", base)
    assert r.rc == 0
    zk.create(base + "/in/chroot", b"c", makepath=True)
    r = conftest.run_cli(srv.hostport + base + "/in", "get", "/chroot")
    assert r.rc == 0 and r.out == "c\n"
    r = conftest.run_cli(srv.hostport + base + "/in", "create", "/made")
    assert r.err.strip() == "Created /made" and zk.exists(base + "/in/made")


def test_client_configuration(cli, base, tmp_path):
    """-client-configuration: a plaintext configuration is read (TLS/JAAS-only
    keys accepted as zkCli.sh accepts them without TLS or JAAS, other keys
    reported as unused) and the command runs; a file asking for a SASL
    login, or one that cannot be read, is refused before connecting (exit 2,
    the key named); one asking for TLS speaks TLS (here to a plaintext port:
    it fails), never silently plaintext."""
    plain = tmp_path / "plain.properties"
    plain.write_text("# zkCli client settings\n! also a comment\n"
                     "zookeeper.sasl.client=false\n"
                     "zookeeper.clientCnxnSocket : org.apache.zookeeper.ClientCnxnSocketNIO\n"
                     "zookeeper.ssl.trustStore.location=/nonexistent/\\\n  truststore.jks\n"
                     "zookeeper.client.secure=false\n"
                     "zookeeper.request.timeout = 5000\n")
    r = cli("-client-configuration", str(plain), "ls", base)
    assert r.rc == 0 and r.out == "[]\n", r
    assert r.err.strip() == "Warning: %s: zookeeper.request.timeout is not used by aviary" % plain, r

    f = tmp_path / "sasl.properties"
    f.write_text("zookeeper.sasl.client=true\nzookeeper.sasl.clientconfig Client\n")
    r = cli("-client-configuration", str(f), "create", base + "/sasl")
    assert r.rc == 2 and r.out == "", r
    assert r.err.startswith("Error: -client-configuration %s: zookeeper.sasl.clientconfig=Client: aviary has no"
                            % f), r
    # TLS asked for (test_tls.py): against this plaintext port the handshake fails, nothing is sent.
    f = tmp_path / "tls.properties"
    f.write_text("zookeeper.client.secure=TRUE\n")
    r = cli("-timeout", "3000", "-client-configuration", str(f), "create", base + "/tls")
    assert r.rc != 0 and r.out == "", r
    r = cli("-client-configuration", str(tmp_path / "missing.properties"), "ls", base)
    assert r.rc == 2 and "cannot read" in r.err and "No such file" in r.err, r
    assert cli("ls", base).out == "[]\n"  # nothing was created by the refused runs
