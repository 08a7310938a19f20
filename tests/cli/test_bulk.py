"""`multi FILE` (atomic: one failing op fails all) and export / import of a
subtree, against Aviary and ZooKeeper 3.8, including a round trip from one
server to the other."""

import json
import os

import conftest


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_multi_applies_all(cli, zk, base, tmp_path):
    zk.create(base + "/old", b"o")
    f = write(tmp_path, "ok.txt", "\n".join([
        "# a comment, then a blank line", "",
        "create %s/a 'hello world'" % base,
        "create -s %s/a/s- x" % base,
        "set -v 0 %s/old new" % base,
        "check -v 1 %s/old" % base,
        "create %s/tmp" % base,
        "delete %s/tmp" % base,
    ]) + "\n")
    r = cli("multi", f)
    assert r.rc == 0, r
    assert r.out.splitlines() == [
        "1 create %s/a OK %s/a" % (base, base),
        "2 create %s/a/s- OK %s/a/s-0000000000" % (base, base),
        "3 set %s/old OK" % base,
        "4 check %s/old OK" % base,
        "5 create %s/tmp OK %s/tmp" % (base, base),
        "6 delete %s/tmp OK" % base,
    ]
    assert zk.get(base + "/a")[0] == b"hello world"
    assert zk.get(base + "/old")[0] == b"new"
    assert zk.get_children(base + "/a") == ["s-0000000000"]
    assert zk.exists(base + "/tmp") is None


def test_multi_is_atomic(cli, zk, base, tmp_path):
    zk.create(base + "/v", b"1")
    f = write(tmp_path, "bad.txt", "create %s/new x\nset %s/v 2\ncheck -v 5 %s/v\n" % (base, base, base))
    r = cli("multi", f)
    assert r.rc == 1
    assert "multi failed at line 3 (check %s/v): version No is not valid : %s/v" % (base, base) in r.err
    assert r.out.splitlines()[2] == "3 check %s/v BADVERSION" % base
    assert zk.exists(base + "/new") is None and zk.get(base + "/v")[0] == b"1"
    doc = cli("multi", f, json=True).json()
    assert doc["ok"] is False and doc["error"] == "BADVERSION"
    assert [x["ok"] for x in doc["results"]] == [False, False, False]
    assert doc["results"][2]["error"] == "BADVERSION"
    assert zk.exists(base + "/new") is None


def test_multi_json_and_parse_errors(cli, zk, base, tmp_path):
    f = write(tmp_path, "j.txt", "create %s/j x\nset %s/j y\n" % (base, base))
    doc = cli("multi", f, json=True).json()
    assert doc["ok"] is True and doc["results"][0]["created"] == base + "/j"
    assert doc["results"][1]["stat"]["dataVersion"] == 1
    bad = write(tmp_path, "p.txt", "create %s/p1\nfrobnicate %s/p2\n" % (base, base))
    r = cli("multi", bad)
    assert r.rc == 1 and ":2: unknown op 'frobnicate'" in r.err
    assert zk.exists(base + "/p1") is None  # nothing sent when the file is malformed
    assert cli("multi", str(tmp_path / "absent.txt")).rc == 1


def make_tree(zk, root):
    from kazoo.security import make_acl
    zk.create(root + "/src", b"top")
    zk.create(root + "/src/text", "héllo".encode())
    zk.create(root + "/src/bin", b"\x00\xff\x10")
    zk.create(root + "/src/text/deep", b"")
    seq = zk.create(root + "/src/seq-", b"s", sequence=True)
    zk.create(root + "/src/locked", b"l", acl=[make_acl("world", "anyone", read=True, create=True,
                                                          delete=True, write=True)])
    return seq[len(root + "/src"):]


def snapshot(zk, path):
    out = {}
    for child in [""] + sorted(walk(zk, path)):
        data, stat = zk.get(path + child)
        acls = sorted((a.perms, a.id.scheme, a.id.id) for a in zk.get_acls(path + child)[0])
        out[child] = (data, acls)
    return out


def walk(zk, path, rel=""):
    for c in zk.get_children(path + rel):
        yield rel + "/" + c
        yield from walk(zk, path, rel + "/" + c)


def test_export_import_round_trip(cli, zk, base, tmp_path):
    seq = make_tree(zk, base)
    eph = zk.create(base + "/src/eph", b"e", ephemeral=True)
    f = str(tmp_path / "exp.json")
    r = cli("export", "--utf8", base + "/src", f)
    assert r.rc == 0, r
    doc = json.load(open(f))
    assert doc["format"] == "aviary-export" and doc["version"] == 1 and doc["root"] == base + "/src"
    by = {n["path"]: n for n in doc["nodes"]}
    assert "/eph" not in by and eph  # ephemerals are skipped
    assert by["/text"]["data"] == "héllo" and by["/bin"]["data_base64"] == "AP8Q"
    assert seq in by and seq.startswith("/seq-00000")  # sequential names kept as they are
    r = cli("import", f, base + "/copy/here")
    assert r.rc == 0, r
    zk.delete(eph)
    assert snapshot(zk, base + "/copy/here") == snapshot(zk, base + "/src")
    # Refuses to overwrite, changing nothing; --force overwrites.
    zk.set(base + "/copy/here/text", b"changed")
    r = cli("import", f, base + "/copy/here")
    assert r.rc == 1 and "refuses to overwrite" in r.err
    assert zk.get(base + "/copy/here/text")[0] == b"changed"
    r = cli("import", "--force", f, base + "/copy/here")
    assert r.rc == 0 and zk.get(base + "/copy/here/text")[0] == "héllo".encode()
    # Default (base64) export and stdout export parse back too.
    r = cli("export", base + "/src")
    assert r.rc == 0 and json.loads(r.out)["nodes"][0]["data_base64"] == "dG9w"


def test_export_to_other_server(srv, target, zk, base, tmp_path):
    """Export from this server, import into the other kind of server."""
    other = conftest.server_for("zookeeper" if target == "aviary" else "aviary")
    make_tree(zk, base)
    f = str(tmp_path / "x.json")
    assert conftest.run_cli(srv.hostport, "export", base + "/src", f).rc == 0
    dest = "/imported_from_%s%s" % (target, base)
    r = conftest.run_cli(other.hostport, "import", f, dest)
    assert r.rc == 0, r
    from kazoo.client import KazooClient
    oz = KazooClient(hosts=other.hostport, timeout=10.0)
    oz.start(timeout=15)
    try:
        assert snapshot(oz, dest) == snapshot(zk, base + "/src")
    finally:
        oz.stop()
        oz.close()
    assert os.path.getsize(f) > 0


def test_import_refuses_malformed_files(cli, zk, base, tmp_path):
    for i, text in enumerate(['{"format": "aviary-export", "nodes": [{"path": 5}]}', "not json",
                              '{"format": "other", "nodes": []}',
                              '{"format": "aviary-export", "nodes": [{"path": "/a", "data_base64": "!!"}]}']):
        f = write(tmp_path, "m%d.json" % i, text)
        r = cli("import", f, base + "/m")
        assert r.rc == 1 and ("not an aviary export file" in r.err or "bad data_base64" in r.err), r
    assert zk.get_children(base) == []
