"""Interactive mode on a pseudo-terminal (libedit): the prompt, tab
completion of commands and znode paths, the history file and recalling a
line with the up arrow, history/redo. Every read is bounded in time."""

import os
import pty
import select
import signal
import subprocess
import time

import conftest


class Term:
    def __init__(self, hostport, histfile):
        self.master, slave = pty.openpty()
        env = dict(os.environ, AVIARY_HISTFILE=histfile, TERM="xterm")
        self.proc = subprocess.Popen([conftest.CLI, "-server", hostport], stdin=slave, stdout=slave,
                                     stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.buf = b""

    def read_until(self, needle, timeout=10.0):
        needle = needle.encode() if isinstance(needle, str) else needle
        deadline = time.monotonic() + timeout
        while needle not in self.buf:
            left = deadline - time.monotonic()
            assert left > 0, "timed out waiting for %r; got %r" % (needle, self.buf[-600:])
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, "terminal closed waiting for %r; got %r" % (needle, self.buf[-600:])
                self.buf += chunk
        at = self.buf.index(needle) + len(needle)
        seen, self.buf = self.buf[:at], self.buf[at:]
        return seen.decode("utf-8", "replace")

    def send(self, text):
        os.write(self.master, text.encode())

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("quit\r")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        os.close(self.master)


def test_completion_and_history(srv, zk, base, tmp_path):
    hist = str(tmp_path / "history")
    zk.create(base + "/alpha_node", b"A-DATA")
    zk.create(base + "/beta")
    t = Term(srv.hostport, hist)
    try:
        t.read_until("(CONNECTED) 0] ")
        # Command completion: "getAl<TAB>" -> "getAllChildrenNumber ".
        t.send("getAl\t")
        t.read_until("ChildrenNumber ")
        t.send(base + "\r")
        t.read_until("\n2")
        t.read_until("(CONNECTED) 1] ")
        # Path completion: "get <base>/al<TAB>" -> the only match.
        t.send("get %s/al\t" % base)
        t.read_until("pha_node")
        t.send("\r")
        t.read_until("A-DATA")
        t.read_until("(CONNECTED) 2] ")
        # Up arrow recalls the previous line; it runs again.
        t.send("\x1b[A")
        t.read_until("pha_node")
        t.send("\r")
        t.read_until("A-DATA")
        t.read_until("(CONNECTED) 3] ")
        t.send("history\r")
        out = t.read_until("(CONNECTED) 4] ")
        assert "0 - getAllChildrenNumber %s" % base in out
        assert "1 - get %s/alpha_node" % base in out
        t.send("redo 0\r")
        t.read_until("\n2")
        t.send("quit\r")
        assert t.proc.wait(timeout=10) == 0  # also: no leak report under ASan
    finally:
        t.close()
    lines = open(hist).read().replace("\\040", " ")  # libedit's history file encoding
    assert "get %s/alpha_node" % base in lines and "getAllChildrenNumber %s" % base in lines
    # A new session reads the history file: the up arrow finds the last line.
    t = Term(srv.hostport, hist)
    try:
        t.read_until("(CONNECTED) 0] ")
        t.send("\x1b[A")
        t.read_until("quit")
        t.send("\x15ls %s\r" % base)  # ^U clears the recalled line
        t.read_until("[alpha_node, beta]")
    finally:
        t.close()


def test_watch_event_while_idle(srv, zk, base, tmp_path):
    zk.create(base + "/w", b"1")
    t = Term(srv.hostport, str(tmp_path / "h"))
    try:
        t.read_until("(CONNECTED) 0] ")
        t.send("get -w %s/w\r" % base)
        t.read_until("(CONNECTED) 1] ")
        zk.set(base + "/w", b"2")
        t.read_until("WatchedEvent state:SyncConnected type:NodeDataChanged path:%s/w" % base)
        t.read_until("(CONNECTED) 1] ")  # the prompt is drawn again after the event
        t.send("get %s/w\r" % base)
        t.read_until("2\r\n")
    finally:
        t.close()
