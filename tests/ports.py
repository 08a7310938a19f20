"""Free loopback ports for every pytest suite (tests/interop, tests/metrics,
tests/audit, tests/ensemble and the suites that use their harnesses; also
tests/diff, tests/zkformat, tests/peer_interop, tests/package, the KDC of
tests/security, and bench/lib through bench/lib/ensemble_harness.py).

Aviary and ZooKeeper are told their ports in zoo.cfg before they start, so a
test picks a port that bind() accepts now and hopes it is still free when the
server binds it (after a JVM's slow start; again at every restart). Two
things can take it meanwhile: another test process choosing the same port
(parallel ctest runs, other checkouts on the machine), and the kernel, which
hands out ports of its ephemeral range (ip_local_port_range) to bind(0) and
as the source port of every outgoing connection. So free_port() takes a
random port BELOW the ephemeral range, checked by binding it, never one this
process handed out before (one member's client port must not become
another's election port); only where that range is too small does it fall
back to the kernel's bind(0). The kernel never hands out those ports by
itself, and random choices from ~20,000 ports rarely meet.

What is left (another process binding the port first) is a start failure
that says so in the server's log: starters retry on a new port when
bind_failed() finds it there (interop/harness.start_server, metrics
support.AviaryServer, audit_support.Server, zkformat/zkrun.start,
bench/lib/servers.Server).
"""

import random
import re
import socket

_rng = random.Random()  # seeded from os.urandom
_handed_out = set()


def _ephemeral_range():
    """The kernel's range for bind(0) and the source ports of outgoing connections."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def _bindable(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port():
    """A loopback port that bind() accepted a moment ago and that this
    process has not handed out before; below the ephemeral range when there
    is room (see the module's docstring)."""
    lo, _ = _ephemeral_range()
    pool = (10000, lo - 1)
    if pool[1] - pool[0] >= 2000:
        for _ in range(200):
            port = _rng.randint(*pool)
            if port not in _handed_out and _bindable(port):
                _handed_out.add(port)
                return port
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def bind_failed(log_text):
    """Whether a server's log says it could not bind a port (Aviary:
    "cannot listen on 127.0.0.1:N: Address already in use"; ZooKeeper:
    java.net.BindException)."""
    return "Address already in use" in log_text or "BindException" in log_text


def set_port(cfg_path, key, port):
    """Rewrites `key=<port>` in a zoo.cfg (a retry on a new port keeps every
    other line the test wrote)."""
    with open(cfg_path) as f:
        text = f.read()
    text, n = re.subn(r"(?m)^%s=\d+$" % re.escape(key), "%s=%d" % (key, port), text)
    assert n == 1, "%s: %d lines %s=" % (cfg_path, n, key)
    with open(cfg_path, "w") as f:
        f.write(text)
