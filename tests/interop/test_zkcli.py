"""zkCli.sh (the Java CLI from the Debian package) against the server: one
JVM run fed a command script on stdin (JLine is off when stdin is not a tty),
checking create / get / set / ls / stat / delete / deleteall outputs."""

import os
import re
import subprocess

import pytest

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"


@pytest.mark.skipif(not os.path.exists(ZKCLI), reason="zookeeper package not installed")
def test_zkcli_script(server, zk, base):
    b = base
    script = "\n".join([
        "create %s/cli hello" % b,
        "create %s/cli dup" % b,
        "create %s/cli/a adata" % b,
        "create -s %s/cli/s- x" % b,
        "create -e %s/cli/e e" % b,
        "get %s/cli" % b,
        "set %s/cli world" % b,
        "get -s %s/cli" % b,
        "ls %s/cli" % b,
        "stat %s/cli/a" % b,
        "stat %s/cli/e" % b,
        "delete %s/cli/a" % b,
        "create %s/cli/b" % b,
        "create %s/cli/b/c deep" % b,
        "deleteall %s/cli/b" % b,
        "ls %s/cli" % b,
        "delete %s/cli" % b,
        "get %s/nonexistent" % b,
        "quit",
    ]) + "\n"
    p = subprocess.run([ZKCLI, "-server", server.hostport], input=script, capture_output=True,
                       text=True, timeout=25)
    out, err = p.stdout, p.stderr
    lines = [line.strip() for line in out.splitlines()]

    assert "WatchedEvent state:SyncConnected type:None path:null" in out
    for created in ("cli", "cli/a", "cli/s-0000000001", "cli/e", "cli/b", "cli/b/c"):
        assert "Created %s/%s" % (b, created) in err
    assert "Node already exists: %s/cli" % b in err
    assert "Node not empty: %s/cli" % b in err
    assert "Node does not exist: %s/nonexistent" % b in err

    # get, then set + get -s (data line followed by the stat block)
    assert lines.count("hello") == 1 and lines.count("world") == 1
    i = lines.index("world")
    stat = dict(re.match(r"(\w+) = (.*)", x).groups() for x in lines[i + 1:i + 12])
    assert set(stat) == {"cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion",
                         "aclVersion", "ephemeralOwner", "dataLength", "numChildren"}
    assert stat["dataVersion"] == "1" and stat["dataLength"] == "5"
    assert stat["numChildren"] == "3" and stat["cversion"] == "3"
    assert stat["ephemeralOwner"] == "0x0"
    assert int(stat["mZxid"], 16) > int(stat["cZxid"], 16)

    # ls before and after delete/deleteall
    assert "[a, e, s-0000000001]" in lines
    assert "[e, s-0000000001]" in lines

    # stat of the persistent and the ephemeral child
    owners = [x.split(" = ")[1] for x in lines if x.startswith("ephemeralOwner = ")]
    assert owners[1] == "0x0"  # cli/a
    assert owners[2] != "0x0" and int(owners[2], 16) != 0  # cli/e
    assert "dataLength = 5" in lines  # cli/a holds "adata"

    # Effects seen by another client after the CLI session closed.
    assert zk.get(b + "/cli")[0] == b"world"
    assert sorted(zk.get_children(b + "/cli")) == ["s-0000000001"]  # e went with the session
    assert zk.get(b + "/cli/s-0000000001")[0] == b"x"
