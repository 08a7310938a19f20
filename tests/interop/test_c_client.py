"""Runs tests/interop/c_client_test.c (libzookeeper-mt, async API) against
the server. The binary comes from $C_CLIENT_TEST (set by ctest) or is
compiled on the fly with cc if absent."""

import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def c_client_binary(tmp_path_factory):
    path = os.environ.get("C_CLIENT_TEST")
    if path:
        assert os.path.exists(path), path
        return path
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not os.path.exists("/usr/include/zookeeper/zookeeper.h"):
        pytest.skip("no C_CLIENT_TEST and no compiler/libzookeeper-mt-dev")
    out = str(tmp_path_factory.mktemp("cclient") / "c_client_test")
    subprocess.run([cc, "-O1", "-Wall", "-DTHREADED", "-o", out, os.path.join(HERE, "c_client_test.c"),
                    "-lzookeeper_mt", "-lpthread", "-lssl", "-lcrypto", "-lm"],
                   check=True, timeout=120)
    return out


def test_c_client_async_api(server, c_client_binary):
    p = subprocess.run([c_client_binary, server.hostport], capture_output=True, text=True,
                       timeout=25)
    assert p.returncode == 0, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr[-4000:])
    assert "all checks passed" in p.stdout
