"""PNG plots (matplotlib, Agg backend): latency vs offered load per
workload, the read-ratio sweep, and the throughput ratios."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .results import KINDS, median  # noqa: E402

STYLE = {"aviary": {"color": "tab:blue", "label": "Aviary"},
         "zookeeper": {"color": "tab:orange", "label": "ZooKeeper 3.8"}}


def latency_vs_load(curves, path, subtitle):
    """curves: {workload: {kind: [point]}} from the rates stage; p99 solid,
    p50 dashed, a point whose achieved rate fell short of 90 % of the
    target is drawn hollow (the server was saturated)."""
    workloads = [w for w in curves if any(curves[w][k] for k in KINDS)]
    if not workloads:
        return None
    fig, axes = plt.subplots(1, len(workloads), figsize=(5.2 * len(workloads), 4.4), squeeze=False)
    for ax, w in zip(axes[0], workloads):
        for k in KINDS:
            pts = [p for p in curves[w][k] if p.get("p99_us")]
            if not pts:
                continue
            x = [p["rate"] for p in pts]
            ax.plot(x, [p["p99_us"] / 1000 for p in pts], "-", **STYLE[k])
            p50 = [(p["rate"], p["p50_us"] / 1000) for p in pts if p.get("p50_us")]
            ax.plot([a for a, _ in p50], [b for _, b in p50], "--", color=STYLE[k]["color"], alpha=0.6)
            for p in pts:
                short = p.get("rate_achieved") is not None and p["rate_achieved"] < 0.9 * p["rate"]
                ax.plot([p["rate"]], [p["p99_us"] / 1000], "o", color=STYLE[k]["color"],
                        markerfacecolor="white" if short else STYLE[k]["color"])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("offered load, %s ops/s (open loop)" % w)
        ax.set_ylabel("latency ms (p99 solid, p50 dashed)")
        ax.set_title(w)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("Latency vs load; hollow: achieved < 90% of offered. " + subtitle, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def read_ratio_sweep(sweep, path, subtitle):
    """sweep: {kind: {read_pct: [ops/s per rep]}}; medians, with the
    spread of the repetitions as error bars."""
    fig, ax = plt.subplots(figsize=(7, 4.4))
    drawn = False
    for k in KINDS:
        pts = sorted((int(p), [v for v in vals if v]) for p, vals in sweep.get(k, {}).items())
        pts = [(p, v) for p, v in pts if v]
        if not pts:
            continue
        x = [p for p, _ in pts]
        med = [median(v) for _, v in pts]
        lo = [m - min(v) for m, (_, v) in zip(med, pts)]
        hi = [max(v) - m for m, (_, v) in zip(med, pts)]
        ax.errorbar(x, med, yerr=[lo, hi], marker="o", capsize=3, **STYLE[k])
        drawn = True
    if not drawn:
        plt.close(fig)
        return None
    ax.set_yscale("log")
    ax.set_xlabel("reads (%), rest setData; 1 KB values")
    ax.set_ylabel("ops/s (median, bars: min-max)")
    ax.set_title("Read-ratio sweep. " + subtitle, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def throughput_ratios(rows, path, subtitle):
    """rows: [(label, ratio)] of ops/s rows; a bar per workload."""
    rows = [(l, r) for l, r in rows if r]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.5))
    ax.barh([l for l, _ in rows][::-1], [r for _, r in rows][::-1], color="tab:blue")
    ax.axvline(1.0, color="grey", linewidth=1)
    ax.set_xlabel("Aviary ops/s / ZooKeeper ops/s (medians)")
    ax.set_title("Throughput ratio. " + subtitle, fontsize=9)
    for i, (_, r) in enumerate(rows[::-1]):
        ax.text(r, i, " %.2f" % r, va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_all(stages, outdir, subtitle):
    by = {s.name: s for s in stages}
    made = []
    if "rates" in by and by["rates"].extra.get("curves"):
        made.append(latency_vs_load(by["rates"].extra["curves"], os.path.join(outdir, "latency_vs_load.png"),
                                    subtitle))
    if "sweep" in by and by["sweep"].extra.get("sweep"):
        made.append(read_ratio_sweep(by["sweep"].extra["sweep"], os.path.join(outdir, "read_ratio_sweep.png"),
                                     subtitle))
    bars = []
    for name in ("throughput", "ensemble"):
        if name in by:
            bars += [("%s%s" % ("3-node " if name == "ensemble" else "", r["measure"]),
                      r["ratio"]) for r in by[name].rows if r["unit"] == "ops/s"]
    if bars:
        made.append(throughput_ratios(bars, os.path.join(outdir, "throughput_ratio.png"), subtitle))
    return [m for m in made if m]
