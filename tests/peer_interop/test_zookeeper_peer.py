"""Election and quorum-port wire interop with a real Apache ZooKeeper 3.8.

quorum_probe (built from quorum_probe.cc, path in $QUORUM_PROBE) runs our
ElectionTransport as two members of a 3-member ensemble and our
QuorumTransport on the quorum port; each test starts ONE real ZooKeeper
(QuorumPeerMain) as the third member, on free loopback ports:
 - ZooKeeper as member 2 follows our member 3: handshakes both ways,
   notifications both ways, discovery/sync packets, forwarded REQUEST,
   REVALIDATE and PING touches;
 - ZooKeeper as member 3 leads and our member 1 follows it: LEADERINFO,
   DIFF, NEWLEADER, UPTODATE, a PROPOSAL that our ACK gets COMMITted, PINGs.
See the probe's comments for the steps. ZooKeeper's log must show no parse
error.
Skipped only when java or the ZooKeeper jars are absent.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from ports import free_port  # noqa: E402  (tests/ports.py: one free-port helper for every suite)

HOST = "127.0.0.1"
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


def classpath():
    jars = [j for j in ZK_JARS if os.path.exists(j)]
    jars += sorted(glob.glob("/usr/share/zookeeper/lib/*.jar"))
    return ":".join(dict.fromkeys(jars))


def start_zookeeper(workdir, ports, client_port, zk_id):
    data = os.path.join(workdir, "data")
    os.makedirs(data)
    with open(os.path.join(data, "myid"), "w") as f:
        f.write("%d\n" % zk_id)
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


needs_zookeeper = pytest.mark.skipif(
    not shutil.which("java") or not os.path.exists(ZK_JARS[0]),
    reason="java or the ZooKeeper jars are not installed")


def run_probe(mode, zk_id, our_ids):
    """Starts the probe (our members), then ZooKeeper as member zk_id; returns
    (probe output, ZooKeeper log, workdir)."""
    probe_bin = os.environ.get("QUORUM_PROBE")
    assert probe_bin and os.path.exists(probe_bin), "set QUORUM_PROBE to the quorum_probe binary"
    p = [free_port() for _ in range(7)]  # distinct: ports.free_port never repeats one
    ports = {sid: (p[2 * i], p[2 * i + 1]) for i, sid in enumerate(sorted(our_ids + [zk_id]))}
    workdir = tempfile.mkdtemp(prefix="aviary-peer-interop-")
    args = [probe_bin, "--mode", mode, "--zk-id", str(zk_id), "--zk-election", str(ports[zk_id][0]),
            "--zk-quorum", str(ports[zk_id][1]), "--zk-client", str(p[6])]
    for sid in our_ids:
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
        zk = start_zookeeper(workdir, ports, p[6], zk_id)
        for line in probe.stdout:
            out.append(line)
        probe.wait(timeout=60)
    finally:
        stop(zk)
        if probe.poll() is None:
            probe.kill()
    text = "".join(out)
    with open(os.path.join(workdir, "zookeeper.log"), errors="replace") as f:
        zk_log = f.read()
    assert probe.returncode == 0 and "PROBE OK" in text, text + "\n--- zookeeper log tail ---\n" + zk_log[-6000:]
    bad = [l for l in zk_log.splitlines() if any(s in l for s in BAD_SIGNS)]
    assert not bad, "\n".join(bad)
    return text, zk_log, workdir


@needs_zookeeper
def test_zookeeper_follows_our_transports():
    """ZooKeeper is member 2 (between our 1 and 3) and follows our member 3."""
    text, zk_log, workdir = run_probe("leader", 2, [1, 3])
    for step in ("ZK VOTES FOR US", "HANDSHAKES OK", "FOLLOWERINFO", "ACKEPOCH OK", "SYNCED",
                 "REQUEST createSession", "REVALIDATE OK", "PING TOUCH", "REJOIN OK"):
        assert step in text, step
    # ZooKeeper's own decoding of our notifications (FastLeaderElection logs
    # each one): our votes for member 3, and the distinctive rejoin vote.
    for sid in (1, 3):
        assert re.search(r"n\.sid:%d, n\.state:LOOKING, n\.leader:3, n\.round:0x1, n\.peerEpoch:0x0, "
                         r"n\.zxid:0x0, message format version:0x2, n\.config version:0x0" % sid, zk_log), sid
    assert re.search(r"my state:FOLLOWING; n\.sid:1, n\.state:LOOKING, n\.leader:1, n\.round:0x2, "
                     r"n\.peerEpoch:0x7, n\.zxid:0x700000009, message format version:0x2", zk_log)
    # Its follower side took our discovery packets, DIFF and NEWLEADER.
    assert "Getting a diff from the leader 0x0" in zk_log
    assert "Learner received NEWLEADER message" in zk_log
    shutil.rmtree(workdir, ignore_errors=True)


@needs_zookeeper
def test_we_follow_zookeeper():
    """ZooKeeper is member 3 (the largest) and leads; our member 1 follows."""
    text, zk_log, workdir = run_probe("learner", 3, [1, 2])
    for step in ("ZK LEADING", "LEADERINFO OK", "SYNCED FROM ZK", "PROPOSAL/ACK/COMMIT OK", "PINGED"):
        assert step in text, step
    assert re.search(r"n\.sid:1, n\.state:LOOKING, n\.leader:3", zk_log)
    assert re.search(r"Follower sid: 1", zk_log), zk_log[-3000:]
    shutil.rmtree(workdir, ignore_errors=True)
