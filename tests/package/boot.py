"""Boots systemd in a container whose root is an overlayfs over the host's
/ and runs systemd_probe.sh in it (the package installed, started, used,
restarted, stopped, removed and purged under a real systemd).

Run as root in a private mount namespace (test_deb.py starts it under
`unshare --mount --fork`): boot.py PACKAGE.deb WORKDIR [NEWER.deb] (WORKDIR: an
empty directory, a tmpfs is mounted on it; NEWER.deb: upgraded to after
the first checks). Prints the probe's
transcript; exits 0 when it ends with PROBE OK, 77 when this machine cannot
boot the container (with the reason), 1 otherwise.
"""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The container boots into this target only: the basic system and the probe
# (not the host's other services).
PROBE_TARGET = """[Unit]
Description=aviary package probe
Requires=basic.target aviary-probe.service
After=basic.target
AllowIsolate=yes
"""
PROBE_UNIT = """[Unit]
Description=aviary package probe
After=basic.target
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/aviary-probe
StandardOutput=journal
"""


def main():
    deb = sys.argv[1]
    # systemd-nspawn keeps state under /run/systemd/nspawn: a private /run
    # leaves nothing on the host.
    if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"]).returncode:
        print("boot: cannot mount a private /run")
        return 77
    work = sys.argv[2]
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", work]).returncode:
        print("boot: cannot mount a tmpfs")
        return 77
    for d in ("u", "w", "r"):
        os.makedirs(os.path.join(work, d))
    root = os.path.join(work, "r")
    opts = "lowerdir=/,upperdir=%s/u,workdir=%s/w" % (work, work)
    if subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, root]).returncode:
        print("boot: cannot mount an overlayfs over /")
        return 77
    # A container image's policy-rc.d (exit 101: start nothing) would keep
    # deb-systemd-invoke from starting the service, as it should; a real
    # system has none.
    if os.path.lexists(root + "/usr/sbin/policy-rc.d"):
        os.remove(root + "/usr/sbin/policy-rc.d")
    os.makedirs(root + "/var/cache/aviary-test", exist_ok=True)
    shutil.copy(deb, root + "/var/cache/aviary-test/aviary.deb")
    if len(sys.argv) > 3:  # a newer version of the package, to upgrade to
        shutil.copy(sys.argv[3], root + "/var/cache/aviary-test/aviary-next.deb")
    os.makedirs(root + "/usr/local/sbin", exist_ok=True)
    shutil.copy(os.path.join(HERE, "systemd_probe.sh"), root + "/usr/local/sbin/aviary-probe")
    with open(root + "/etc/systemd/system/aviary-probe.service", "w") as f:
        f.write(PROBE_UNIT)
    with open(root + "/etc/systemd/system/aviary-probe.target", "w") as f:
        f.write(PROBE_TARGET)
    try:
        p = subprocess.run(["systemd-nspawn", "-D", root, "--boot", "--register=no", "--keep-unit",
                            "--link-journal=no", "--private-network", "-q", "systemd.unit=aviary-probe.target"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        console = p.stdout
    except subprocess.TimeoutExpired as e:
        console = (e.stdout or b"").decode("utf-8", "replace") + "\n(container killed after 120 s)"
    out = open(root + "/probe.out").read() if os.path.exists(root + "/probe.out") else ""
    print(out)
    if not out:
        print("boot: the probe did not run; container console:\n" + console[-4000:])
        return 77 if "Failed to" in console and "Powering off" not in console else 1
    return 0 if out.rstrip().endswith("PROBE OK") else 1


if __name__ == "__main__":
    sys.exit(main())
