"""Launch harness for replicated ensembles: Aviary members, Apache ZooKeeper
3.8 members, or a mix, on loopback, each with the zoo.cfg and myid a
ZooKeeper operator would write.

    ens = Ensemble(["aviary", "zookeeper", "aviary"], observers=["aviary"])
    ens.start()                      # every member, then waits for a leader
    ens.connect_string()             # "127.0.0.1:p1,127.0.0.1:p2,..."
    ens.leader()                     # Member whose `srvr` says Mode: leader
    ens.members[1].kill()            # kill -9
    ens.members[1].start()           # same dataDir, same config
    ens.members[1].replace("zookeeper", wipe=True)   # rolling migration step
    ens.stop()

Every member gets three free ports (client, quorum, election). Members are
numbered from 1 (myid) in list order, observers after the voters.

AVIARY_ENSEMBLE_SUBSTITUTE=zookeeper runs every member that a test asks to be
"aviary" as a ZooKeeper member instead (and vice versa with =aviary): the
mixed and migration scenarios then run on one implementation, which is how
they were proven against Apache ZooKeeper before Aviary could join.
"""

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests"))

import ports  # noqa: E402  (tests/ports.py)

TICK_TIME_MS = 200
INIT_LIMIT = 10
SYNC_LIMIT = 5

ZK_JARS = [
    "/usr/share/java/zookeeper.jar",
    "/usr/share/java/zookeeper-jute.jar",
    "/usr/share/java/slf4j-api.jar",
    "/usr/share/java/slf4j-simple.jar",
]


# Member ports (client, quorum, election; admin and metrics ports of the
# suites that use this harness): below the kernel's ephemeral range, never
# handed out twice by this process (tests/ports.py says why).
free_port = ports.free_port


def four_letter(port, cmd, timeout=2.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(cmd.encode("ascii"))
            s.shutdown(socket.SHUT_WR)
            chunks = []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
            return b"".join(chunks).decode("utf-8", "replace")
    except OSError:
        return ""


def substitute(kind):
    """The kind a member really runs as (see AVIARY_ENSEMBLE_SUBSTITUTE)."""
    return os.environ.get("AVIARY_ENSEMBLE_SUBSTITUTE") or kind


def aviary_binary():
    binary = os.environ.get("AVIARY_SERVER") or os.path.join(REPO_ROOT, "build", "aviary-server")
    if not os.path.exists(binary):
        raise RuntimeError("aviary-server binary not found: %s (set AVIARY_SERVER)" % binary)
    return binary


class Member:
    def __init__(self, ensemble, sid, kind, observer):
        self.ensemble = ensemble
        self.sid = sid
        self.kind = substitute(kind)  # "aviary" | "zookeeper"
        self.observer = observer
        self.client_port = free_port()
        self.quorum_port = free_port()
        self.election_port = free_port()
        self.workdir = os.path.join(ensemble.root, "m%d" % sid)
        self.data_dir = os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "server.log")
        self.proc = None
        self.stopped = False  # set by stop()/kill(): an exit is expected
        self.extra_cfg = {}  # this member's own keys, over the ensemble's

    # --- configuration -------------------------------------------------
    def server_line(self):
        role = ":observer" if self.observer else ":participant"
        return "server.%d=127.0.0.1:%d:%d%s;127.0.0.1:%d" % (
            self.sid, self.quorum_port, self.election_port, role, self.client_port)

    def write_config(self):
        os.makedirs(self.data_dir, exist_ok=True)
        with open(os.path.join(self.data_dir, "myid"), "w") as f:
            f.write("%d\n" % self.sid)
        lines = [
            "tickTime=%d" % TICK_TIME_MS,
            "initLimit=%d" % INIT_LIMIT,
            "syncLimit=%d" % self.ensemble.sync_limit,
            "dataDir=%s" % self.data_dir,
            "clientPort=%d" % self.client_port,
            "clientPortAddress=127.0.0.1",
            "maxClientCnxns=0",
            "admin.enableServer=false",
            "4lw.commands.whitelist=*",
            "standaloneEnabled=false",
            "reconfigEnabled=false",
            "snapCount=%d" % self.ensemble.snap_count,
        ]
        if self.observer:
            lines.append("peerType=observer")
        for k, v in {**self.ensemble.extra_cfg, **self.extra_cfg}.items():
            lines.append("%s=%s" % (k, v))
        for k, v in self.ensemble.kind_cfg.get(self.kind, {}).items():
            lines.append("%s=%s" % (k, v))
        lines += [m.server_line() for m in self.ensemble.members]
        cfg = os.path.join(self.workdir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        return cfg

    def command(self, cfg):
        if self.kind == "zookeeper":
            java = shutil.which("java") or "/usr/bin/java"
            jvm = self.ensemble.zk_jvm or ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
            return [java] + jvm + [
                "-Dzookeeper.4lw.commands.whitelist=*",
                "-Dzookeeper.admin.enableServer=false",
                "-Dreadonlymode.enabled=%s" % ("true" if self.ensemble.read_only else "false"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=%s"
                % os.environ.get("AVIARY_ZK_LOGLEVEL", "info"),
                "-cp", ":".join(ZK_JARS),
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg,
            ]
        return [aviary_binary(), cfg]

    # --- lifecycle -----------------------------------------------------
    def start(self):
        assert self.proc is None or self.proc.poll() is not None
        cfg = self.write_config()
        self.stopped = False
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.command(cfg), stdin=subprocess.DEVNULL, stdout=logf,
            stderr=subprocess.STDOUT, cwd=self.workdir, start_new_session=True)
        logf.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _signal(self, sig):
        if self.alive():
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self):
        """kill -9: no shutdown, unsynced bytes in the page cache survive."""
        self.stopped = True
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self):
        self.stopped = True
        self._signal(signal.SIGTERM)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def replace(self, kind, wipe=True):
        """Stop this member and start it again as `kind` with the same
        zoo.cfg and myid; wipe=True starts from an empty dataDir (the new
        member syncs from the ensemble)."""
        self.stop()
        if wipe:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self.kind = substitute(kind)
        self.start()

    # --- probes --------------------------------------------------------
    def mode(self):
        """'leader', 'follower', 'observer', 'read-only', 'standalone' or ''."""
        for line in four_letter(self.client_port, "srvr").splitlines():
            if line.startswith("Mode:"):
                return line.split(":", 1)[1].strip()
        return ""

    def srvr(self):
        """srvr as a dict ('Mode', 'Zxid', 'Node count', ...); {} if down."""
        out = {}
        for line in four_letter(self.client_port, "srvr").splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out[k.strip()] = v.strip()
        return out

    def zxid(self):
        """The last zxid this member applied (srvr 'Zxid:'), or -1 if down."""
        z = self.srvr().get("Zxid")
        return int(z, 16) if z else -1

    def mntr(self):
        out = {}
        for line in four_letter(self.client_port, "mntr").splitlines():
            if "\t" in line:
                k, v = line.split("\t", 1)
                out[k] = v
        return out

    def version_dir(self):
        return os.path.join(self.data_dir, "version-2")

    def purge(self, retain=3):
        """Removes old snapshots and the logs only they need, with the rule
        of ZooKeeper's PurgeTxnLog / autopurge (keep the newest `retain`
        snapshots, the logs after the oldest of them and the one log that
        holds it). Both implementations name files snapshot.<hex zxid> and
        log.<hex zxid> in dataDir/version-2. Returns the files removed."""
        def zx(path):
            return int(path.rsplit(".", 1)[1], 16)
        vdir = self.version_dir()
        snaps = sorted((p for p in glob.glob(os.path.join(vdir, "snapshot.*"))
                        if re.search(r"\.[0-9a-f]+$", p)), key=zx)
        if len(snaps) <= retain:
            return []
        oldest_kept = zx(snaps[-retain])
        logs = sorted((p for p in glob.glob(os.path.join(vdir, "log.*"))
                       if re.search(r"\.[0-9a-f]+$", p)), key=zx)
        keep_log_from = max([zx(p) for p in logs if zx(p) <= oldest_kept], default=0)
        victims = snaps[:-retain] + [p for p in logs if zx(p) < keep_log_from]
        for p in victims:
            os.remove(p)
        return victims

    def hostport(self):
        return "127.0.0.1:%d" % self.client_port

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def sync_modes(self, since=0):
        """How this member was synced by a leader since log offset `since`,
        from its own log: a list of 'DIFF' / 'SNAP' / 'TRUNC'. ZooKeeper logs
        "Getting a diff from the leader" / "Getting a snapshot from leader" /
        "Truncating log to get in sync with the leader"; Aviary "the leader
        syncs us by DIFF|SNAP|TRUNC"."""
        out = []
        for line in self.log_since(since).splitlines():
            if "Getting a diff from the leader" in line:
                out.append("DIFF")
            elif "Getting a snapshot from leader" in line:
                out.append("SNAP")
            elif "Truncating log to get in sync with the leader" in line:
                out.append("TRUNC")
            else:
                m = re.search(r"the leader syncs us by (DIFF|SNAP|TRUNC)", line)
                if m:
                    out.append(m.group(1))
        return out

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""


class Ensemble:
    def __init__(self, kinds, observers=(), snap_count=100000, read_only=False, extra_cfg=None,
                 zk_jvm=None, kind_cfg=None, sync_limit=None):
        """zk_jvm: JVM options of ZooKeeper members (default: small heap,
        serial GC, C1 only - quick to start, for tests; a benchmark passes
        the production defaults, e.g. ["-Xmx1000m"]). kind_cfg: zoo.cfg
        lines for the members of one kind only, {"aviary": {key: value}}.
        sync_limit: syncLimit in ticks (default SYNC_LIMIT: 1 s), how long a
        leader waits for a learner's ACK before it drops the learner."""
        self.zk_jvm = zk_jvm
        self.sync_limit = sync_limit or SYNC_LIMIT
        self.kind_cfg = dict(kind_cfg or {})
        self.root = tempfile.mkdtemp(prefix="aviary-ensemble-")
        self.snap_count = snap_count
        self.read_only = read_only
        self.extra_cfg = dict(extra_cfg or {})
        if read_only:
            self.extra_cfg.setdefault("readonlymode.enabled", "true")
        self.members = []
        for kind in kinds:
            self.members.append(Member(self, len(self.members) + 1, kind, False))
        for kind in observers:
            self.members.append(Member(self, len(self.members) + 1, kind, True))

    def voters(self):
        return [m for m in self.members if not m.observer]

    def connect_string(self, members=None):
        return ",".join(m.hostport() for m in (members or self.members))

    def start(self, timeout=60.0, first=None):
        """Starts every member and waits for a leader. `first` (members)
        start alone and elect a leader among themselves before the rest
        start: with fresh data the highest id among them leads, which is how
        a test picks the leader's kind."""
        if first:
            for m in first:
                m.start()
            self.wait_for_leader(timeout, serving=first)
        for m in self.members:
            if not m.alive():
                m.start()
        return self.wait_for_leader(timeout)

    def followers(self, kind=None):
        return [m for m in self.members if m.alive() and not m.observer
                and m.mode() == "follower" and (kind is None or m.kind == kind)]

    def mark(self, timeout=30.0):
        """Commits one write (setData of /ensemble-marker) through the
        voters and returns its zxid: a member whose last zxid reaches it has
        every txn committed before, in the current epoch too (a new
        leader's epoch has no txn of its own until a write)."""
        from kazoo.client import KazooClient
        from kazoo.retry import KazooRetry
        c = KazooClient(hosts=self.connect_string([m for m in self.voters() if m.alive()]),
                        timeout=8.0, connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 0.5})
        # A member that just (re)started may drop the connection once more
        # (ConnectionLoss): both ops are idempotent, retried until `timeout`.
        retry = KazooRetry(max_tries=-1, delay=0.1, max_delay=0.5, deadline=timeout)
        try:
            c.start(timeout=timeout)
            retry(c.ensure_path, "/ensemble-marker")
            return retry(c.set, "/ensemble-marker", b"%f" % time.time()).mzxid
        finally:
            c.stop()
            c.close()

    def wait_synced(self, member, timeout=30.0, target=None):
        """Waits until `member` serves (follower/observer/leader) and its
        last zxid reaches `target` (default: the leader's current zxid)."""
        if target is None:
            target = self.mark(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if member.mode() in ("leader", "follower", "observer") and member.zxid() >= target:
                return
            time.sleep(0.1)
        raise AssertionError("member %d (%s) not synced to 0x%x within %.0fs: mode=%r zxid=0x%x\n%s"
                             % (member.sid, member.kind, target, timeout, member.mode(),
                                member.zxid(), member.log_tail()))

    def leader(self):
        for m in self.members:
            if m.alive() and m.mode() == "leader":
                return m
        return None

    def wait_for_leader(self, timeout=60.0, serving=None):
        """Waits until one member leads and every member in `serving`
        (default: every live member) answers srvr with a role."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lead = self.leader()
            want = serving if serving is not None else [m for m in self.members if m.alive()]
            if lead is not None and all(m.mode() in ("leader", "follower", "observer") for m in want):
                return lead
            for m in self.members:
                if m.proc is not None and not m.stopped and not m.alive():
                    raise RuntimeError("member %d (%s) exited with %s:\n%s"
                                       % (m.sid, m.kind, m.proc.returncode, m.log_tail()))
            time.sleep(0.2)
        raise RuntimeError("no leader within %.0fs:\n%s" % (timeout, "\n".join(
            "--- member %d (%s) mode=%r\n%s" % (m.sid, m.kind, m.mode(), m.log_tail(1500))
            for m in self.members)))

    def stop(self, keep=False):
        for m in self.members:
            m.stop()
        if not keep and not os.environ.get("AVIARY_ENSEMBLE_KEEP"):  # =1 keeps data and logs for a post-mortem
            shutil.rmtree(self.root, ignore_errors=True)
        elif not keep:
            print("ensemble kept in %s" % self.root)
