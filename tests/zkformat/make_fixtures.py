"""Produce a real Apache ZooKeeper 3.8 dataDir for the zkformat tests:
zookeeper_workload(out_dir) runs ZooKeeper on out_dir/data, drives the
workload, records the tree kazoo sees (out_dir/tree.json) and the session
left open, kills ZooKeeper (SIGKILL), restarts it once (a restart writes a
snapshot of the whole tree) and kills it again.

Run as a script to refresh tests/unit/zkformat/testdata/ (the unit tests'
checked-in fixture):  /usr/bin/python3 tests/zkformat/make_fixtures.py
"""

import os
import shutil
import sys
import tempfile

import zkrun


def zookeeper_workload(out_dir, extra=None, churn=False, restart=True, jvm_props=None):
    data = os.path.join(out_dir, "data")
    os.makedirs(data, exist_ok=True)
    work = os.path.join(out_dir, "run")
    p = zkrun.start("zookeeper", work, data, extra, jvm_props=jvm_props)
    try:
        z = zkrun.workload(p)
        if churn:
            z.stop()
            z.close()
            z = zkrun.churn(p)
        tree = zkrun.read_tree(p)
        zkrun.dump_json(tree, os.path.join(out_dir, "tree.json"))
        with open(os.path.join(out_dir, "session.txt"), "w") as f:
            f.write("%d\n" % z.client_id[0])
    finally:
        p.kill()
    if restart:
        p = zkrun.start("zookeeper", work, data, extra, jvm_props=jvm_props)  # loads snapshot + log, snapshots at start
        p.kill()
    return tree


def main():
    dest = os.path.join(zkrun.REPO_ROOT, "tests", "unit", "zkformat", "testdata")
    tmp = tempfile.mkdtemp(prefix="zkfixture-")
    try:
        zookeeper_workload(tmp)
        if os.path.exists(dest):
            shutil.rmtree(dest + "/version-2", ignore_errors=True)
        os.makedirs(dest, exist_ok=True)
        shutil.copytree(os.path.join(tmp, "data", "version-2"), os.path.join(dest, "version-2"))
        shutil.copy(os.path.join(tmp, "tree.json"), dest)
        print("fixture written to", dest)
        for f in sorted(os.listdir(os.path.join(dest, "version-2"))):
            print(" ", f, os.path.getsize(os.path.join(dest, "version-2", f)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
