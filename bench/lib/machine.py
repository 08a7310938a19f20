"""What the run was measured on: CPU (lscpu), RAM, the work directory's
file system and device, kernel, JDK, ZooKeeper and Aviary versions, the
commit, and the load average."""

import os
import platform
import subprocess

from . import servers


def _run(cmd, cwd=None):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=cwd)
        return (out.stdout + out.stderr).strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def lscpu():
    info = {}
    for line in _run(["lscpu"]).splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
    keep = ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Socket(s)", "CPU max MHz",
            "Hypervisor vendor", "Virtualization type", "L2 cache", "L3 cache")
    return {k: info[k] for k in keep if k in info}


def mem_total_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1048576.0, 1)
    return None


def disk(path):
    df = _run(["df", "-T", path]).splitlines()
    fields = df[-1].split() if len(df) >= 2 else []
    dev = fields[0] if fields else ""
    rot = ""
    name = os.path.basename(dev)
    if name and os.path.exists("/sys/block/%s/queue/rotational" % name):
        with open("/sys/block/%s/queue/rotational" % name) as f:
            rot = "sysfs: rotational" if f.read().strip() == "1" else "sysfs: non-rotational"
    return {"device": dev, "fs": fields[1] if len(fields) > 1 else "", "kind": rot,
            "container": os.path.exists("/.dockerenv") or "container" in os.environ}


def commit(repo):
    head = _run(["git", "rev-parse", "--short=12", "HEAD"], cwd=repo)
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo)
    return head + ("-dirty" if dirty else "")


def device_interrupts():
    """Device interrupts taken so far per CPU (/proc/interrupts: the numbered
    IRQ lines, not the local timer, IPIs and the like); [] when unreadable."""
    try:
        with open("/proc/interrupts") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    ncpu = len(lines[0].split()) if lines else 0
    counts = [0] * ncpu
    for line in lines[1:]:
        head, _, rest = line.partition(":")
        if not head.strip().isdigit():
            continue
        for i, v in enumerate(rest.split()[:ncpu]):
            if v.isdigit():
                counts[i] += int(v)
    return counts


def quiet_cpu():
    """The CPU (number) that has taken the fewest device interrupts, or None
    on a single-CPU machine. On the measured VM every disk completion goes to
    one vCPU, which stalls for milliseconds while durable writes run
    (docs/perf/storage.md, session 9): a load generator pinned there is late."""
    counts = device_interrupts()
    if len(counts) < 2:
        return None
    return min(range(len(counts)), key=lambda i: counts[i])


def describe(opts, repo, workdir):
    java = _run(["java", "-version"]).splitlines()
    return {
        "cpu": lscpu(), "nproc": os.cpu_count(), "ram_gib": mem_total_gib(), "disk": disk(workdir),
        "kernel": platform.release(), "jdk": java[1] if len(java) > 1 else (java[0] if java else ""),
        "zookeeper": servers.zookeeper_version(), "zk_heap": opts.zk_heap,
        "aviary": _run([opts.aviary_server, "--version"]).splitlines()[:1], "commit": commit(repo),
        "python": platform.python_version(), "load_avg": [round(x, 2) for x in os.getloadavg()],
        "device_interrupts_per_cpu": device_interrupts(),
    }


def summary(m):
    c = m["cpu"]
    return ("%s CPUs (%s), %s GiB RAM, %s on %s (%s), Linux %s, %s, ZooKeeper %s (-Xmx%s), commit %s"
            % (m["nproc"], c.get("Model name", "?"), m["ram_gib"], m["disk"]["fs"], m["disk"]["device"],
               m["disk"]["kind"] or "?", m["kernel"], m["jdk"], m["zookeeper"], m["zk_heap"], m["commit"]))
