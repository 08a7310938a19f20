"""zktop (Debian package zktop) reads Aviary's `stat` without error (issue 9).

zktop swallows every parse error and shows the server as "Unavailable"
(ZKServer.__init__'s bare except), so the test asserts what it parsed:
  - its own ZKServer class, imported from the installed zktop.py, against
    the running server: available, the version, the mode, one Session per
    client line (with queued/recved/sent), and the latency triple;
  - the real program in a pseudo-terminal for a few seconds (then `q`): its
    screen shows the server's row with the mode letter, not "Unavailable".
"""

import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest

ZKTOP = "/usr/bin/zktop"


pytestmark = pytest.mark.skipif(not os.path.exists(ZKTOP), reason="zktop (Debian package) not installed")


def zktop_parse(hostport):
    """zktop's own parser run on the server's stat reply, in a child python
    (zktop parses sys.argv when imported)."""
    code = (
        "import sys, json\n"
        "sys.argv = ['zktop', '--servers', %r, '-t', '5']\n"
        "import zktop\n"
        "s = zktop.ZKServer(%r, 0)\n"
        "out = {'unavailable': s.unavailable, 'mode': s.mode, 'version': s.version,\n"
        "       'sessions': [vars(x) for x in s.sessions]}\n"
        "if not s.unavailable:\n"
        "    out.update(lat=[s.min_latency, s.avg_latency, s.max_latency], received=s.received,\n"
        "               sent=s.sent, outstanding=s.outstanding, zxid=s.zxid, node_count=s.node_count)\n"
        "print(json.dumps(out))\n" % (hostport, hostport))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    import json
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_zktop_parses_stat(server, zk_factory):
    zk_factory().create("/zktop-probe", b"x", ephemeral=True)
    zk_factory().get_children("/")
    got = zktop_parse(server.hostport)
    assert got["unavailable"] is False, got
    assert got["mode"] == "standalone"
    assert got["version"] == "3.8.0"
    assert len(got["sessions"]) >= 3  # two kazoo clients and zktop's own connection
    for s in got["sessions"]:
        assert s["host"] == "127.0.0.1"
        assert int(s["port"]) > 0
        for k in ("queued", "recved", "sent"):
            assert int(s[k]) >= 0
    assert any(int(s["recved"]) > 0 for s in got["sessions"])
    mn, avg, mx = got["lat"]
    assert int(mn) <= float(avg) <= int(mx)
    assert int(got["received"]) > 0 and int(got["node_count"]) >= 2
    assert got["zxid"].startswith("0x")


def run_in_pty(argv, seconds):
    """Runs argv on a pty for `seconds`, sends 'q', returns the screen bytes."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm"
        os.environ["LINES"], os.environ["COLUMNS"] = "30", "120"
        os.execv(argv[0], argv)
    out = b""
    deadline = time.monotonic() + seconds
    sent_q = False
    try:
        while True:
            now = time.monotonic()
            if now >= deadline and not sent_q:
                os.write(fd, b"q")
                sent_q = True
                deadline = now + 5
            elif now >= deadline:
                break
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return out.decode("utf-8", "replace")


def test_zktop_screen_shows_the_server(server, zk):
    screen = run_in_pty([ZKTOP, "--servers", server.hostport, "-t", "5"], 4.0)
    assert str(server.port) in screen
    assert "Unavailable" not in screen
    assert "ID SERVER" in screen and "CLIENT" in screen
    # The server row: ..., port, then the mode's first letter: S (standalone);
    # an unparsed reply shows U (Unavailable).
    assert re.search(r"%d S\b" % server.port, screen), screen[-2000:]
