"""A 3-node ensemble of each kind, side by side, through the ensemble test
harness (tests/ensemble/ensemble.py, imported, not copied), configured as
the standalone servers: tickTime=2000, forceSync=yes, ZooKeeper with the
same JVM options and log4j config at INFO (the harness's own defaults are
a small test JVM and slf4j-simple)."""

import os

from . import procs, servers
from .ensemble_harness import ensemble
from .results import KINDS


class Target:
    """An ensemble as a load target: every member's client port, every
    member's process."""

    def __init__(self, ens):
        self.ens = ens

    def hostport(self):
        return self.ens.connect_string()

    def pids(self):
        return [m.proc.pid for m in self.ens.members if m.alive()]

    def leader(self):
        return self.ens.leader()

    def settle(self):
        """Until one member leads and every member serves again."""
        self.ens.wait_for_leader(timeout=60)


class Pair:
    """with Pair(ctx) as targets: {"aviary": Target, "zookeeper": Target}."""

    def __init__(self, ctx, kinds=KINDS, cfg=None):
        self.ctx = ctx
        self.kinds = kinds
        self.cfg = dict(cfg or {})
        self.ensembles = []

    def __enter__(self):
        o = self.ctx.opts
        self.saved = (ensemble.TICK_TIME_MS, list(ensemble.ZK_JARS))
        ensemble.TICK_TIME_MS = 2000
        ensemble.ZK_JARS[:] = servers.ZK_CLASSPATH  # log4j 1.2 binding instead of slf4j-simple
        os.environ["AVIARY_SERVER"] = o.aviary_server  # what ensemble.aviary_binary() runs
        extra = {"forceSync": "yes", "maxSessionTimeout": 40000}
        extra.update(self.cfg)
        jvm = servers.zk_jvm_args(self.ctx.workdir, o)
        out = {}
        try:
            for kind in self.kinds:
                ens = procs.REGISTRY.add_ensemble(ensemble.Ensemble(
                    [kind] * 3, zk_jvm=jvm, extra_cfg=extra, kind_cfg={"aviary": {"aviary.logLevel": "info"}}))
                self.ensembles.append(ens)
            # Every member of both ensembles exec'd first, then each waited for
            # (what Ensemble.start does, with the two starts overlapping).
            for ens in self.ensembles:
                for m in ens.members:
                    m.start()
            for kind, ens in zip(self.kinds, self.ensembles):
                ens.wait_for_leader(timeout=180)
                out[kind] = Target(ens)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return out

    def __exit__(self, *exc):
        for ens in self.ensembles:
            ens.stop(keep=self.ctx.opts.keep)
            procs.REGISTRY.forget_ensemble(ens)
        ensemble.TICK_TIME_MS, jars = self.saved
        ensemble.ZK_JARS[:] = jars
        return False
