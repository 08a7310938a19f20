"""The ensemble test harness (tests/ensemble/ensemble.py), imported once for
bench/: its Ensemble runs the ensemble stages (ensembles.py), and its
four_letter and member log readers serve the standalone servers too
(servers.py, zkraw.py), so bench/ keeps no copies of them; and tests/ports.py
(which ensemble.py puts on the path), the free-port helper of every suite."""

import os
import sys

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "ensemble"))
import ensemble  # noqa: E402,F401
import ports  # noqa: E402,F401  (tests/ports.py)
