"""pytest entry: one test per tests/diff/scripts/*.txt, ZooKeeper vs Aviary.

Set DIFF_TARGETS=zookeeper,zookeeper to run the ZK-vs-ZK self-check instead.
Skips (with the reason) when the Aviary binary ($AVIARY_SERVER, default
/work/main/build/aviary-server) does not exist.
"""

import io
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run_diff  # noqa: E402
import servers  # noqa: E402

TARGETS = tuple(os.environ.get("DIFF_TARGETS", "zookeeper,aviary").split(","))
SCRIPTS = run_diff.script_paths()


@pytest.fixture(scope="module")
def runner():
    if "aviary" in TARGETS and not os.path.exists(servers.aviary_binary()):
        pytest.skip(f"Aviary server binary {servers.aviary_binary()} not found; "
                    "build it or set AVIARY_SERVER")
    r = run_diff.DiffRunner(*TARGETS)
    yield r
    r.stop()


@pytest.mark.parametrize("path", SCRIPTS, ids=[os.path.basename(p)[:-4] for p in SCRIPTS])
def test_script(runner, path):
    out = io.StringIO()
    bad = runner.check(path, run_diff.load_accepted(), out=out)
    if bad:
        pytest.fail(f"{len(bad)} unaccepted difference(s):\n{out.getvalue()[-20000:]}")


def test_four_letter_words(runner):
    """Every four-letter word, ZooKeeper vs Aviary, compared by structure
    (four_letter.py)."""
    import four_letter
    runner.restart()
    out = io.StringIO()
    diffs, _ = four_letter.check(runner.servers, out)
    runner.stop()
    if diffs:
        pytest.fail(out.getvalue()[-20000:])
