"""The text output of `aviary` matches zkCli.sh's, line for line, for the
same commands on the same server (Aviary and ZooKeeper 3.8). zkCli.sh is
one JVM run fed the whole script on stdin (slow to start, so one run per
server); aviary reads the same script on stdin. Read-only commands and
failing writes only, so both runs see the same tree."""

import os
import subprocess

import pytest

import conftest

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"

# Lines zkCli prints around the commands (banner, connection event, logging).
NOISE_PREFIXES = ("Connecting to ", "Welcome to ", "JLine support", "WATCHER::", "WatchedEvent state:SyncConnected type:None",
                  "SLF4J", "Line editing")


def clean(text):
    return [x for x in text.splitlines() if x.strip() and not x.startswith(NOISE_PREFIXES)]


def script_for(b):
    return [
        "get -s %s/n" % b,
        "get %s/empty" % b,
        "ls -s %s" % b,
        "ls -R %s" % b,
        "stat %s/n/k" % b,
        "getAcl -s %s/acl" % b,
        "getAcl %s/n" % b,
        "getAllChildrenNumber %s" % b,
        "getEphemerals %s" % b,
        "sync %s" % b,
        "whoami",
        "printwatches",
        "get %s/missing" % b,
        "create %s/n" % b,
        "delete %s/n" % b,
        "set -v 99 %s/n x" % b,
        "ls %s/missing" % b,
        "listquota %s/n" % b,
        "create %s/missing/x" % b,
        "stat %s/missing" % b,
    ]


@pytest.mark.skipif(not os.path.exists(ZKCLI), reason="zookeeper package not installed")
def test_output_matches_zkcli(srv, zk, base):
    from kazoo.security import make_acl
    zk.create(base + "/n", b"hello world")
    zk.create(base + "/n/k", b"kid")
    zk.create(base + "/empty")
    zk.create(base + "/acl", b"", acl=[make_acl("world", "anyone", read=True, write=True),
                                         make_acl("ip", "127.0.0.1", all=True)])
    script = "\n".join(script_for(base)) + "\nquit\n"
    z = subprocess.run([ZKCLI, "-server", srv.hostport, "-waitforconnection"], input=script,
                       capture_output=True, text=True, timeout=40)
    a = conftest.run_cli(srv.hostport, input=script)
    assert clean(a.out) == clean(z.stdout)
    assert clean(a.err) == clean(z.stderr)
    # Sanity: the comparison covered real output.
    assert "hello world" in a.out and "'ip,'127.0.0.1" in a.out
    assert "Node does not exist: %s/missing" % base in a.err
