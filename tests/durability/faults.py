"""Helpers for the fault tests: fill a server with known data, copy its files,
locate log records (through `aviary-dump log --json`) and damage them."""

import json
import os
import re
import shutil

import durharness


def write_creates(c, prefix, n, tag):
    """Creates prefix/<tag>-<i> (value "<tag>-<i>") for i < n; all must be
    acknowledged. Returns {path: value}."""
    out = {}
    for i in range(n):
        path = "%s/%s-%03d" % (prefix, tag, i)
        value = "%s-%03d" % (tag, i)
        err, _ = c.create(path, value.encode())
        assert err == 0, "create %s: err %d" % (path, err)
        out[path] = value
    return out


def ensure(c, path):
    err, _ = c.create(path)
    assert err in (0, -110), "create %s: err %d" % (path, err)


def missing(c, expected):
    """Paths of `expected` ({path: value}) that are absent or differ."""
    bad = []
    for path, value in expected.items():
        err, res = c.get_data(path)
        if err != 0 or res[0] != value.encode():
            bad.append((path, err, None if err else res[0]))
    return bad


def clone(src, node_factory, **kw):
    """A new node whose data (and log) dirs are copies of src's files."""
    dst = node_factory(separate_log_dir=src.log_dir != src.data_dir, **kw)
    dst.extra_cfg.update({k: v for k, v in src.extra_cfg.items() if k != "dataLogDir"})
    shutil.rmtree(dst.data_dir)
    shutil.copytree(src.data_dir, dst.data_dir)
    if src.log_dir != src.data_dir:
        shutil.rmtree(dst.log_dir)
        shutil.copytree(src.log_dir, dst.log_dir)
    return dst


def records(segment):
    """The records of a log segment as dicts (zxid, type, path, offset,
    length, ...) from `aviary-dump log FILE --json`."""
    p = durharness.run_dump("log", segment, "--json")
    out = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rec = json.loads(line)
            if "zxid" in rec and "offset" in rec:
                out.append(rec)
    return out


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x5A]))


def names_offset(text, path, offsets):
    """True if text names the file (base name suffices) and one of the
    offsets, in decimal or 0x hex."""
    if os.path.basename(path) not in text:
        return False
    for o in offsets:
        if re.search(r"(?<![0-9a-fA-Fx])%d(?![0-9])" % o, text) or ("%#x" % o) in text.lower():
            return True
    return False
