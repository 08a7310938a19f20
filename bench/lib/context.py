"""State shared by the stages of one run: the options, the aviary-bench
wrapper, the work directory, and helpers that start a fresh pair of
standalone servers (one of each kind, side by side) and warm them up."""

import os
import shutil

from . import results, servers


class Context:
    def __init__(self, opts, bench, workdir):
        self.opts = opts
        self.bench = bench
        self.workdir = workdir
        self.stages = []
        self.shared = None  # --share-servers: the pair every shareable stage uses

    def load_args(self, clients=None, depth=None, payload=None, seconds=None, warmup=None):
        o = self.opts
        return ["--clients", clients or o.clients, "--depth", depth or o.depth,
                "--payload", payload if payload is not None else o.payload, "--keys", o.keys,
                "--seconds", seconds if seconds is not None else o.seconds,
                "--warmup", warmup if warmup is not None else o.warmup]

    def timeout(self, seconds):
        return int(seconds * 4 + 180)

    def start_pair(self, name, cfg=None, kinds=results.KINDS, shareable=False):
        """A fresh Aviary and a fresh ZooKeeper (or only `kinds`) under
        workdir/name, both serving, in the order Aviary, ZooKeeper. With
        --share-servers (--quick) a `shareable` stage gets the one pair
        started for all of them instead (stop_pair leaves it running)."""
        if shareable and self.opts.share_servers:
            if self.shared is None:
                self.shared = self._start("shared", None, results.KINDS)
            return {k: self.shared[k] for k in kinds}
        return self._start(name, cfg, kinds)

    def _start(self, name, cfg, kinds):
        root = os.path.join(self.workdir, name)
        os.makedirs(root, exist_ok=True)
        pair = {}
        try:  # both exec'd first, then waited for: ZooKeeper's JVM start overlaps Aviary's
            for kind in kinds:
                pair[kind] = servers.Server(kind, root, self.opts, cfg).start(wait=False)
            for server in pair.values():
                server.wait_started()
        except Exception:
            self.stop_pair(pair)
            raise
        return pair

    def stop_pair(self, pair, wipe=True):
        for s in pair.values():
            if self.shared is not None and s in self.shared.values():
                continue  # the shared pair: stopped by close_shared at the end
            s.stop()
            if wipe and not self.opts.keep:
                s.wipe()

    def close_shared(self):
        if self.shared is not None:
            pair, self.shared = self.shared, None
            self.stop_pair(pair)

    def warm(self, targets, seconds=None):
        """Unmeasured mixed load on every target (ZooKeeper's JIT)."""
        secs = seconds if seconds is not None else self.opts.warm_seconds
        if secs <= 0:
            return
        for t in targets:
            self.bench.run(t.hostport(), "mixed", self.load_args(seconds=secs, warmup=0) + ["--read-pct", 50],
                           self.timeout(secs))

    def keep_dir(self, path):
        if not self.opts.keep:
            shutil.rmtree(path, ignore_errors=True)
