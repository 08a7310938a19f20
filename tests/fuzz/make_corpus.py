#!/usr/bin/env python3
"""Writes the hand-made fuzz seeds (payloads, no length prefix) to corpus/.

Run from anywhere: python3 tests/fuzz/make_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")


def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def b(v): return b"\x01" if v else b"\x00"
def s(v): v = v.encode() if isinstance(v, str) else v; return i32(len(v)) + v
def vec(items): return i32(len(items)) + b"".join(items)


ACL = vec([i32(31) + s("world") + s("anyone")])
STAT = i64(1) + i64(2) + i64(3) + i64(4) + i32(5) + i32(6) + i32(7) + i64(0) + i32(3) + i32(1) + i64(2)


def mh(t, done=False, err=-1): return i32(t) + b(done) + i32(err)


SEEDS = {
    "connect_request": i32(0) + i64(0) + i32(30000) + i64(0) + s(b"\0" * 16) + b(False),
    "connect_response": i32(0) + i32(30000) + i64(0x1234) + s(b"\x07" * 16) + b(False),
    "create": i32(1) + i32(1) + s("/a") + s("hi") + ACL + i32(0),
    "create_ttl": i32(2) + i32(21) + s("/t") + s("") + ACL + i32(5) + i64(1000),
    "set_data": i32(3) + i32(5) + s("/a") + s("v") + i32(-1),
    "set_acl": i32(4) + i32(7) + s("/a") + ACL + i32(0),
    "get_children2": i32(5) + i32(12) + s("/") + b(True),
    "multi": i32(6) + i32(14)
    + mh(1) + s("/x") + s("") + ACL + i32(1)
    + mh(5) + s("/y") + s("v") + i32(3)
    + mh(2) + s("/z") + i32(-1)
    + mh(13) + s("/c") + i32(0)
    + mh(21) + s("/t") + s("") + ACL + i32(5) + i64(10)
    + mh(-1, True),
    "multi_read": i32(7) + i32(22) + mh(8) + s("/a") + b(False) + mh(4) + s("/b") + b(False) + mh(-1, True),
    "set_watches": i32(-8) + i32(101) + i64(9) + vec([s("/a")]) + vec([]) + vec([s("/b")]),
    "set_watches2": i32(-8) + i32(105) + i64(9) + vec([s("/a")]) + vec([]) + vec([]) + vec([s("/p")]) + vec([s("/r")]),
    "auth": i32(-4) + i32(100) + i32(0) + s("digest") + s("u:p"),
    "reconfig": i32(8) + i32(16) + s("server.1=a:1:2") + s("") + s("") + i64(-1),
    "ping": i32(-2) + i32(11),
    # Replies (the fuzzer picks the expected op from the last byte).
    "reply_get_data": i32(9) + i64(5) + i32(0) + s("data") + STAT + b"\x05",
    "reply_multi": i32(10) + i64(6) + i32(0)
    + mh(1, err=0) + s("/x") + mh(15, err=0) + s("/y") + STAT + mh(2, err=0) + mh(-1, err=-101) + i32(-101)
    + mh(-1, True) + b"\x0c",
    "reply_notification": i32(-1) + i64(-1) + i32(0) + i32(3) + i32(3) + s("/n"),
    "reply_whoami": i32(11) + i64(7) + i32(0) + vec([s("ip") + s("127.0.0.1")]) + b"\x10",
}

os.makedirs(OUT, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"wrote {len(SEEDS)} seeds to {OUT}")
