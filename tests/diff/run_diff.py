#!/usr/bin/env python3
"""Differential test: run every tests/diff/scripts/*.txt against two servers
(default ZooKeeper 3.8 vs Aviary) and compare normalised transcripts.

Server reuse: one server per target for the whole run. Before each script the
control session deletes every node except /zookeeper and reads the current
zxid (`base`); the script's zxids are printed as offsets from that base, so
earlier scripts do not shift later ones, while every zxid a script consumes
(sessions, failed writes, closeSession...) is still compared exactly. Scripts
marked `@fresh` (and the first script of a run) get freshly started servers,
and for them the absolute base zxid is compared too (checks the initial zxid).
The script runs on both targets concurrently (two threads, no shared state).

Exit status: 0 when every difference is listed in accepted.json, else 1.
"""

import argparse
import difflib
import json
import os
import re
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import four_letter  # noqa: E402
import scriptlang  # noqa: E402
import servers  # noqa: E402
import zkwire  # noqa: E402

SCRIPTS_DIR = os.path.join(HERE, "scripts")
ACCEPTED = os.path.join(HERE, "accepted.json")


def script_paths():
    return sorted(os.path.join(SCRIPTS_DIR, f) for f in os.listdir(SCRIPTS_DIR)
                  if f.endswith(".txt"))


def load_accepted(path=ACCEPTED):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


def flatten(x, prefix, out):
    if isinstance(x, dict):
        for k, v in x.items():
            flatten(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(x, list):
        out[prefix + ".len"] = len(x)
        for i, v in enumerate(x):
            flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = x
    return out


def group(transcript):
    groups = {}
    for item in transcript:
        key = (item.get("step"), item.get("sess", "-"))
        body = {k: v for k, v in item.items() if k not in ("step", "sess")}
        groups.setdefault(key, []).append(body)
    return groups


def differences(ta, tb):
    """List of (step, field, a, b); field is "<sess>[<i>].<path>"."""
    ga, gb = group(ta), group(tb)
    order = list(dict.fromkeys(list(ga) + list(gb)))
    diffs = []
    for key in order:
        la, lb = ga.get(key, []), gb.get(key, [])
        step, sess = key
        for i in range(max(len(la), len(lb))):
            name = f"{sess}[{i}]"
            if i >= len(la) or i >= len(lb):
                diffs.append((step, name, la[i] if i < len(la) else "<missing>",
                              lb[i] if i < len(lb) else "<missing>"))
                continue
            fa, fb = flatten(la[i], "", {}), flatten(lb[i], "", {})
            for f in dict.fromkeys(list(fa) + list(fb)):
                va, vb = fa.get(f, "<absent>"), fb.get(f, "<absent>")
                if va != vb:
                    diffs.append((step, f"{name}.{f}", va, vb))
    return diffs


def is_accepted(script, step, field, accepted):
    for e in accepted:
        if e.get("script") != script:
            continue
        if e.get("step", "*") not in ("*", step):
            continue
        if field_matches(field, e.get("field", "*")):
            return True
    return False


def field_matches(field, pattern):
    """`*` is the only wildcard; brackets in field names are literal."""
    rx = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(rx, field) is not None


def render(transcript):
    return [json.dumps(item, sort_keys=True) + "\n" for item in transcript]


class DiffRunner:
    """Owns the two servers; runs scripts one by one."""

    def __init__(self, target_a="zookeeper", target_b="aviary"):
        self.kinds = (target_a, target_b)
        self.servers = [None, None]
        self.first = True

    def restart(self):
        """Fresh servers of both kinds (also used by four_letter.py's check)."""
        self._restart()

    def _restart(self):
        self.stop()
        errs = [None, None]

        def start(i):
            try:
                self.servers[i] = servers.Server(self.kinds[i]).start()
            except Exception as e:  # reported below
                errs[i] = e
        ts = [threading.Thread(target=start, args=(i,)) for i in (0, 1)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        if any(errs) or not all(self.servers):
            self.stop()
            raise RuntimeError(f"server start failed: {errs}")

    def stop(self):
        for i, s in enumerate(self.servers):
            if s:
                s.stop()
            self.servers[i] = None

    def run_one(self, path):
        """Returns (name, transcript_a, transcript_b)."""
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            script = scriptlang.parse_script(name, f.read())
        fresh = self.first or script.fresh or not all(self.servers)
        if fresh:
            self._restart()
        self.first = False
        results = [None, None]

        def run(i):
            srv = self.servers[i]
            try:
                if not fresh:
                    srv.cleanup(script.creds)
                base = srv.probe_zxid()
                raw = scriptlang.Executor(servers.HOST, srv.port).run(script)
                start = {"step": "start", "fresh": fresh}
                if fresh:
                    start["base_zxid"] = base
                norm = zkwire.normalise(raw, base, {})
                results[i] = [start] + norm
                srv.cleanup(script.creds)
            except Exception as e:  # a crash is a transcript difference
                results[i] = [{"step": "crash", "error": repr(e)}]
        ts = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(180)
        for i in (0, 1):
            if results[i] is None:
                results[i] = [{"step": "crash", "error": "script thread hung"}]
            if any(item.get("step") == "crash" for item in results[i]):
                self.servers[i] and self.servers[i].stop()
                self.servers[i] = None
        return name, results[0], results[1]

    def check(self, path, accepted, out=sys.stdout, verbose=False):
        """Run one script; print its diff; return the unaccepted differences."""
        name, ta, tb = self.run_one(path)
        diffs = differences(ta, tb)
        bad = [d for d in diffs if not is_accepted(name, d[0], d[1], accepted)]
        if verbose:
            out.write(f"--- transcript {name} ({self.kinds[0]}) ---\n")
            out.writelines(render(ta))
        if diffs:
            out.writelines(difflib.unified_diff(
                render(ta), render(tb), f"{name}.{self.kinds[0]}",
                f"{name}.{self.kinds[1]}", n=2))
            for step, field, va, vb in diffs:
                tag = "accepted" if (step, field, va, vb) not in bad else "DIFF"
                out.write(f"  {tag} {name} step={step} field={field}: "
                          f"{json.dumps(va)} != {json.dumps(vb)}\n")
        out.write(f"{'PASS' if not bad else 'FAIL'} {name} "
                  f"({len(ta)} items, {len(diffs)} differences, {len(bad)} unaccepted)\n")
        out.flush()
        return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target-a", default="zookeeper", choices=("zookeeper", "aviary"))
    ap.add_argument("--target-b", default="aviary", choices=("zookeeper", "aviary"))
    ap.add_argument("--script", action="append",
                    help="script name(s) to run (default: all)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also print target A's full transcript")
    ap.add_argument("--four-letter", choices=("yes", "no", "only"), default="yes",
                    help="after the scripts, compare every four-letter word (four_letter.py)")
    args = ap.parse_args()
    if "aviary" in (args.target_a, args.target_b) and not os.path.exists(servers.aviary_binary()):
        print(f"aviary binary {servers.aviary_binary()} not found (set AVIARY_SERVER)")
        return 2
    paths = script_paths()
    if args.script:
        paths = [p for p in paths if os.path.splitext(os.path.basename(p))[0] in args.script]
    accepted = load_accepted()
    runner = DiffRunner(args.target_a, args.target_b)
    failed = []
    if args.four_letter == "only":
        paths = []
    try:
        for p in paths:
            if runner.check(p, accepted, verbose=args.verbose):
                failed.append(os.path.basename(p))
        if args.four_letter != "no" and not args.script:
            runner.restart()
            if four_letter.check(runner.servers, sys.stdout)[0]:
                failed.append("four-letter words")
    except RuntimeError as e:
        print(f"ERROR: {e}")
        return 2
    finally:
        runner.stop()
    print(f"{len(paths) - len(failed)}/{len(paths)} scripts equal"
          + (f"; failing: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
