"""Election and quorum-port wire interop with a real Apache ZooKeeper 3.8.

quorum_probe (built from quorum_probe.cc, path in $QUORUM_PROBE) runs our
ElectionTransport as members 1 and 3 and our QuorumTransport as member 3's
quorum port. This test starts ONE real ZooKeeper (QuorumPeerMain) as member
2 of that 3-member ensemble, on free loopback ports, and lets the probe drive
it: handshakes both ways, notifications both ways, ZooKeeper following us,
discovery/sync packets, forwarded REQUEST, REVALIDATE and PING touches (see
the probe's header for the steps). ZooKeeper's log must show no parse error.
Skipped only when java or the ZooKeeper jars are absent.
"""

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

HOST = "127.0.0.1"
ZK_ID = 2
ZK_JARS = ["/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar",
           "/usr/share/java/slf4j-api.jar", "/usr/share/java/slf4j-simple.jar"]
# ZooKeeper's own words for input it could not parse (QuorumCnxManager,
# FastLeaderElection, Learner).
BAD_SIGNS = [
    "Initial message parsing error",
    "Unreasonable buffer length",
    "Got a short response",
    "Skipping the processing of a partial / malformed",
    "Invalid configLength",
    "Something went wrong while processing config",
    "Received packet with invalid packet",
    "unexpected quorum packet",
    "Got unexpected packet from leader",
    "Missing session",
]


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind((HOST, 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def classpath():
    jars = [j for j in ZK_JARS if os.path.exists(j)]
    jars += sorted(glob.glob("/usr/share/zookeeper/lib/*.jar"))
    return ":".join(dict.fromkeys(jars))


def start_zookeeper(workdir, ports, client_port):
    data = os.path.join(workdir, "data")
    os.makedirs(data)
    with open(os.path.join(data, "myid"), "w") as f:
        f.write("%d\n" % ZK_ID)
    lines = ["tickTime=500", "initLimit=20", "syncLimit=10", "dataDir=" + data,
             "clientPort=%d" % client_port, "clientPortAddress=" + HOST,
             "admin.enableServer=false", "4lw.commands.whitelist=*"]
    for sid, (eport, qport) in sorted(ports.items()):
        lines.append("server.%d=%s:%d:%d" % (sid, HOST, qport, eport))
    cfg = os.path.join(workdir, "zoo.cfg")
    with open(cfg, "w") as f:
        f.write("\n".join(lines) + "\n")
    log = open(os.path.join(workdir, "zookeeper.log"), "wb")
    cmd = [shutil.which("java"), "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
           "-Dzookeeper.admin.enableServer=false",
           "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
           "-cp", classpath(), "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
    proc = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return proc


def stop(proc):
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.mark.skipif(not shutil.which("java") or not os.path.exists(ZK_JARS[0]),
                    reason="java or the ZooKeeper jars are not installed")
def test_zookeeper_follows_our_transports():
    probe_bin = os.environ.get("QUORUM_PROBE")
    assert probe_bin and os.path.exists(probe_bin), "set QUORUM_PROBE to the quorum_probe binary"
    p = free_ports(7)
    ports = {1: (p[0], p[1]), 2: (p[2], p[3]), 3: (p[4], p[5])}  # id -> (election, quorum)
    workdir = tempfile.mkdtemp(prefix="aviary-peer-interop-")
    args = [probe_bin, "--zk-election", str(ports[ZK_ID][0]), "--zk-client", str(p[6])]
    for sid in (1, 3):
        args += ["--member", "%d:%d:%d" % (sid, ports[sid][0], ports[sid][1])]
    probe = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    zk = None
    out = []
    try:
        line = probe.stdout.readline()
        while line and "READY" not in line and "PROBE" not in line:
            out.append(line)
            line = probe.stdout.readline()
        out.append(line)
        assert "READY" in line, "".join(out)
        zk = start_zookeeper(workdir, ports, p[6])
        deadline = time.monotonic() + 60
        for line in probe.stdout:
            out.append(line)
            assert time.monotonic() < deadline, "probe too slow"
        probe.wait(timeout=10)
    finally:
        stop(zk)
        if probe.poll() is None:
            probe.kill()
    text = "".join(out)
    with open(os.path.join(workdir, "zookeeper.log"), errors="replace") as f:
        zk_log = f.read()
    assert probe.returncode == 0 and "PROBE OK" in text, text + "\n--- zookeeper log tail ---\n" + zk_log[-6000:]
    for step in ("ZK VOTES FOR US", "HANDSHAKES OK", "FOLLOWERINFO", "ACKEPOCH OK", "SYNCED",
                 "REQUEST createSession", "REVALIDATE OK", "PING TOUCH", "REJOIN OK"):
        assert step in text, step
    bad = [l for l in zk_log.splitlines() if any(s in l for s in BAD_SIGNS)]
    assert not bad, "\n".join(bad)
    # ZooKeeper's own decoding of our notifications (FastLeaderElection logs
    # each one): our votes for member 3, and the distinctive rejoin vote.
    for sid in (1, 3):
        assert re.search(r"n\.sid:%d, n\.state:LOOKING, n\.leader:3, n\.round:0x1, n\.peerEpoch:0x0, "
                         r"n\.zxid:0x0, message format version:0x2, n\.config version:0x0" % sid, zk_log), sid
    assert re.search(r"my state:FOLLOWING; n\.sid:1, n\.state:LOOKING, n\.leader:1, n\.round:0x2, "
                     r"n\.peerEpoch:0x7, n\.zxid:0x700000009, message format version:0x2", zk_log)
    # Its follower side took our FOLLOWERINFO exchange, DIFF and NEWLEADER.
    assert "Getting a diff from the leader 0x0" in zk_log
    assert "Learner received NEWLEADER message" in zk_log
    shutil.rmtree(workdir, ignore_errors=True)
