"""Aviary's logging (docs/OPERATIONS.md "Logging"): levels set at start (zoo.cfg,
--log-level) and changed at run time (SIGHUP re-reads aviary.logLevel), one
INFO line per session open / close / expiry carrying the session id, the
client's ip:port and the timeout, the log file rotated by size and reopened
on SIGUSR1, and the journal format."""

import os
import re
import signal
import subprocess
import sys

from kazoo.client import KazooClient

import audit_support as sup

HERE = os.path.dirname(os.path.abspath(__file__))


def session(srv, timeout=10.0):
    zk = KazooClient(hosts=srv.hostport, timeout=timeout)
    zk.start(timeout=20)
    return zk


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def local_port(zk):
    return zk._connection._socket.getsockname()[1]


def test_levels_from_flag_then_sighup_rereads_zoo_cfg():
    srv = sup.Server("aviary", audit=False, args=["--log-level=warn"])
    log = os.path.join(srv.dir, "aviary.log")
    srv.write_cfg(extra=[f"aviary.log.file={log}", "aviary.logLevel=info"])
    try:
        srv.start()
        zk = session(srv)
        zk.stop()
        zk.close()
        assert "Established session" not in read(log)  # --log-level=warn wins at start
        srv.write_cfg(extra=[f"aviary.log.file={log}", "aviary.logLevel=info,peer=debug"])
        srv.signal(signal.SIGHUP)
        sup.wait_for(lambda: "SIGHUP: log levels now info,peer=debug" in read(log), 10, "the SIGHUP line")
        zk = session(srv)
        sid, port = zk.client_id[0], local_port(zk)
        timeout_ms = 20 * 200  # kazoo asks 10 s; maxSessionTimeout is 20 ticks
        zk.stop()
        zk.close()
        text = read(log)
        assert re.search(rf" INFO \[server\] Established session {sid:#x} with negotiated timeout {timeout_ms} ms "
                         rf"for client 127\.0\.0\.1:{port}\n", text), text
        assert re.search(rf" INFO \[server\] Closed session {sid:#x} at the request of client 127\.0\.0\.1:{port}\n",
                         text), text
        # A bad level keeps the current ones.
        srv.write_cfg(extra=[f"aviary.log.file={log}", "aviary.logLevel=loud"])
        srv.signal(signal.SIGHUP)
        sup.wait_for(lambda: "log levels unchanged" in read(log), 10, "the refusal")
        assert srv.proc.poll() is None
    finally:
        srv.cleanup()


def test_session_expiry_line_names_session_and_timeout():
    srv = sup.Server("aviary", audit=False)
    try:
        srv.start()
        child = subprocess.Popen([sys.executable, os.path.join(HERE, "expiry_child.py"), srv.hostport, "/e"],
                                 stdout=subprocess.PIPE, text=True)
        try:
            sid = child.stdout.readline().strip()
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        pattern = re.compile(rf" INFO \[server\] Expiring session {sid}, timeout of \d+ ms exceeded\n")
        sup.wait_for(lambda: pattern.search(srv.output()), 20, "the expiry line")
        assert f"Established session {sid} " in srv.output()
    finally:
        srv.cleanup()


def test_log_file_rotates_by_size_and_reopens_on_sigusr1():
    srv = sup.Server("aviary", audit=False)
    log = os.path.join(srv.dir, "aviary.log")
    srv.write_cfg(extra=[f"aviary.log.file={log}", "aviary.log.maxFileSize=2KB", "aviary.log.maxBackups=2"])
    try:
        srv.start()
        for _ in range(25):
            zk = session(srv)
            zk.stop()
            zk.close()
        files = sorted(f for f in os.listdir(srv.dir) if f.startswith("aviary.log"))
        assert files == ["aviary.log", "aviary.log.1", "aviary.log.2"], files
        for f in files:
            assert os.path.getsize(os.path.join(srv.dir, f)) <= 2048
        # logrotate's way: move the file, then SIGUSR1; the server writes a new one.
        os.rename(log, log + ".moved")
        srv.signal(signal.SIGUSR1)
        # The main thread reopens when it takes the signal (sigwait), which a
        # loaded machine delays: lines logged before that still go to the moved
        # file, as with any logrotate. The reopen creates the file at once.
        sup.wait_for(lambda: os.path.exists(log), 10, "the reopened file")
        zk = session(srv)
        sid = zk.client_id[0]
        zk.stop()
        zk.close()
        sup.wait_for(lambda: os.path.exists(log) and f"Established session {sid:#x}" in read(log), 10,
                     "the line in the reopened file")
        assert f"Established session {sid:#x}" not in read(log + ".moved")
    finally:
        srv.cleanup()


def test_journal_format_on_stderr():
    srv = sup.Server("aviary", audit=False)
    srv.write_cfg(extra=["aviary.log.format=journal"])
    try:
        srv.start()
        zk = session(srv)
        sid = zk.client_id[0]
        zk.stop()
        zk.close()
        sup.wait_for(lambda: f"<6>[server] Established session {sid:#x} " in srv.output(), 10, "the journal line")
        for line in srv.output().splitlines():
            assert re.match(r"^<[3467]>\[[a-z]+\] ", line), line
    finally:
        srv.cleanup()
