"""Checks shared by the adversarial tests.

    with adv.Guard(srv) as g:      # writes N acknowledged znodes, samples RSS
        ... attack srv ...
    # on exit: the server process is alive, a fresh session can write and
    # read, every acknowledged znode is still there with its data, and RSS
    # grew by at most g.rss_slack_kb.

`Guard.verify()` may also be called inside the block (e.g. while a hostile
connection is still open) to prove other clients are served meanwhile.
"""

import os
import time

import rawzk


def rss_kb(pid, field="VmRSS"):
    """Resident set size of a process in KiB (from /proc); field="VmHWM"
    gives the peak instead."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError("no %s for pid %d" % (field, pid))


def hwm_kb(pid):
    """Peak resident set size of a process in KiB."""
    return rss_kb(pid, "VmHWM")


def sanitized():
    """True when the server under test is an ASan/UBSan build (RSS is then
    dominated by shadow memory and quarantine: bounds are loosened)."""
    return os.environ.get("AVIARY_SANITIZE", "").lower() in ("1", "true", "on", "yes")


class Guard:
    def __init__(self, srv, writes=20, rss_slack_kb=64 * 1024, prefix=None):
        self.srv = srv
        self.writes = writes
        self.rss_slack_kb = rss_slack_kb * (4 if sanitized() else 1)
        self.prefix = prefix or "/adv_guard_%d_%d" % (os.getpid(), int(time.monotonic() * 1e6))
        self.acked = {}
        self.rss_before_kb = None
        self.rss_after_kb = None

    def __enter__(self):
        c = rawzk.open_session(self.srv.host, self.srv.port)
        try:
            err, _ = c.create(self.prefix)
            assert err == 0, "guard: create %s -> %d" % (self.prefix, err)
            for i in range(self.writes):
                path = "%s/n%04d" % (self.prefix, i)
                data = ("acked-%d" % i).encode()
                err, _ = c.create(path, data)
                assert err == 0, "guard: create %s -> %d" % (path, err)
                self.acked[path] = data
        finally:
            c.close_session()
        self.rss_before_kb = rss_kb(self.srv.pid)
        return self

    def verify(self):
        """The server answers a fresh client and lost nothing acknowledged."""
        assert self.srv.alive(), "server died: %s" % self.srv.log_tail()
        assert self.srv.four_letter("ruok").strip() == "imok"
        c = rawzk.open_session(self.srv.host, self.srv.port)
        try:
            for path, data in self.acked.items():
                err, got = c.get_data(path)
                assert err == 0, "acknowledged %s lost: err %d" % (path, err)
                assert got[0] == data, "acknowledged %s changed: %r" % (path, got[0])
            probe = "%s/probe%d" % (self.prefix, len(self.acked))
            err, _ = c.create(probe, b"after")
            assert err == 0, "a fresh client cannot write after the attack: err %d" % err
            self.acked[probe] = b"after"
        finally:
            c.close_session()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False
        self.verify()
        self.rss_after_kb = rss_kb(self.srv.pid)
        grew = self.rss_after_kb - self.rss_before_kb
        print("guard: RSS %d -> %d KiB (grew %d, bound %d)" % (
            self.rss_before_kb, self.rss_after_kb, grew, self.rss_slack_kb))
        assert grew <= self.rss_slack_kb, "RSS grew by %d KiB (%d -> %d), bound %d KiB" % (
            grew, self.rss_before_kb, self.rss_after_kb, self.rss_slack_kb)
        return False
