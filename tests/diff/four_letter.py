"""Four-letter words, ZooKeeper 3.8 vs Aviary: the same sessions, znodes and
watches are made on both servers, then every word is asked of both and the
replies are compared by structure.

    shape(word, text) -> what must be equal

Values that legitimately differ (versions, ports, times, sizes, ids,
latencies, counts of packets, directories) are replaced by placeholders;
what remains - the lines, keys and their order, fixed values such as
`Mode: standalone`, the trace mask, the reset messages, the zxids of the
digest log - must be the same. Where ZooKeeper prints a hash map's order
(dump's ephemerals and buckets, cons/stat's connections, wchc/wchp) the
lines are compared as sets, the section headers in order. mntr's key set
belongs to the metrics part: here only its form and first keys are checked.

Used by run_diff.py (after the scripts) and test_diff.py.
"""

import re
import socket
import time

HOST = "127.0.0.1"

# Asked in this order (stmk carries its 8-byte mask).
WORDS = ["ruok", "isro", "srvr", "stat", "cons", "conf", "dirs", "wchs", "wchc", "wchp",
         "dump", "hash", "envi", "mntr", "gtmk", "stmk", "gtmk", "crst", "cons", "srst", "srvr"]
STMK_MASK = 274
EXACT = {"ruok", "isro", "gtmk", "stmk", "crst", "srst", "wchs"}
UNORDERED = {"dump", "cons", "wchc", "wchp"}


def ask(port, word, timeout=5.0):
    payload = word.encode()
    if word == "stmk":
        payload += STMK_MASK.to_bytes(8, "big")
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(payload)
        chunks, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode("utf-8", "replace")


_RULES = [
    (re.compile(r"^(Zookeeper version: |zookeeper\.version=|zk_version\t).*"), r"\1<version>"),
    (re.compile(r"/\d+\.\d+\.\d+\.\d+:\d+"), "<addr>"),
    (re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}"), "<date>"),
    (re.compile(r"0x[0-9a-f]+"), "0x<h>"),
    (re.compile(r"(?<![\w.])-?\d+(\.\d+)?(E-?\d+)?(?![\w])"), "<n>"),
]


def norm_line(line):
    for rx, rep in _RULES:
        line = rx.sub(rep, line)
    return line


def shape(word, text):
    """What of `text` (the reply to `word`) must equal between servers."""
    if word in EXACT:
        return text
    lines = text.split("\n")
    if word == "envi":  # keys in order; the values are this machine's
        return [ln.split("=", 1)[0] for ln in lines]
    if word == "mntr":  # the key set is the metrics part's; here: form and first keys
        keys = [ln.split("\t", 1)[0] for ln in lines if ln]
        bad = [ln for ln in lines if ln and not re.match(r"^zk_\w+\t.*$", ln)]
        return {"first": keys[:2], "server_state": lines[1], "malformed": bad}
    if word == "conf":
        lines = [re.sub(r"^(dataDir|dataLogDir)=.*/version-2$", r"\1=<dir>/version-2", ln) for ln in lines]
    if word == "hash":  # the zxids must match; the digests hold each server's mtimes
        return [re.sub(r": -?\d+$", ": <digest>", ln) for ln in lines]
    norm = [norm_line(ln) for ln in lines]
    if word in UNORDERED or word == "stat":
        heads = [ln for ln in norm if ln[:1].isalpha()]
        heads = [h for i, h in enumerate(heads) if i == 0 or heads[i - 1] != h]
        return {"headers": heads, "lines": sorted(set(norm))}
    return norm


def populate(port):
    """The same state on a server: 2 sessions with ephemerals and watches,
    and enough txns for one digest log entry (zxid 0x80)."""
    from kazoo.client import KazooClient
    clients = []
    for i in (1, 2):
        zk = KazooClient(hosts="%s:%d" % (HOST, port), timeout=10)
        zk.start(timeout=15)
        clients.append(zk)
        zk.create("/e%d" % i, b"x", ephemeral=True)
        zk.create("/p%d" % i, b"data")
        zk.get("/p%d" % i, watch=lambda e: None)
        zk.get_children("/p%d" % i, watch=lambda e: None)  # not in the data-watch table
        zk.exists("/zookeeper", watch=lambda e: None)
    writer = clients[0]
    while writer.set("/p1", b"more").mzxid < 0x84:
        pass
    return clients


def run(port_a, port_b):
    """Asks every word of both; returns [(index, word, shape_a, shape_b)]
    for the words that differ, and the raw replies."""
    replies = []
    for word in WORDS:
        replies.append((word, ask(port_a, word), ask(port_b, word)))
    diffs = []
    for i, (word, a, b) in enumerate(replies):
        sa, sb = shape(word, a), shape(word, b)
        if sa != sb:
            diffs.append((i, word, sa, sb))
    return diffs, replies


def check(servers_pair, out):
    """servers_pair: two started servers.Server; returns the differences."""
    clients = []
    try:
        for srv in servers_pair:
            clients += populate(srv.port)
        time.sleep(0.5)  # let the watches and touches settle
        diffs, replies = run(servers_pair[0].port, servers_pair[1].port)
    finally:
        for zk in clients:
            zk.stop()
            zk.close()
    for i, word, sa, sb in diffs:
        out.write("DIFF four-letter word #%d %s:\n  %s: %r\n  %s: %r\n" % (
            i, word, servers_pair[0].kind, sa, servers_pair[1].kind, sb))
    out.write("%s four-letter words (%d asked, %d differ)\n" % (
        "PASS" if not diffs else "FAIL", len(WORDS), len(diffs)))
    return diffs, replies
