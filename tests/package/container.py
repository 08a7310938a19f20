"""Installs the .deb into a container-like root and runs its service there.

Run as root inside fresh mount, network and pid namespaces (test_deb.py
starts it under `unshare --mount --net --pid --fork`):

    container.py PACKAGE.deb UNIT_KEYS.json WORKDIR

The root is an overlayfs over the host's / with a tmpfs upper layer, so
dpkg, adduser and the maintainer scripts change only the container, and the
container has no systemd (an empty /run): the postinst must enable the unit
without starting it. Steps, each checked (a failed check exits 1 with the
reason; a machine that cannot make the container exits 77):
  1. dpkg -i: user and group `aviary`, /var/lib/aviary and /var/log/aviary
     owned by it (0750), conffiles registered, the unit enabled.
  2. the service started as its unit says (User/Group, ExecStart, UMask,
     LimitNOFILE, NoNewPrivileges, an empty CapabilityBoundingSet, and
     ProtectSystem=strict with ReadWritePaths, PrivateTmp, ProtectHome made
     by bind mounts), a kazoo client creates and reads a znode, the data
     files are the aviary user's, SIGTERM stops it with status 0.
  3. dpkg -i again (upgrade path of the maintainer scripts), dpkg --purge:
     data, logs, conffiles and the enablement are gone, the user is kept.
"""

import json
import os
import shlex
import shutil
import subprocess
import sys

SKIP = 77


def say(msg):
    print("container: " + msg, flush=True)


def fail(msg):
    say("FAILED: " + msg)
    sys.exit(1)


def sh(args, check=True, **kw):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and p.returncode != 0:
        fail("%s exited %d:\n%s" % (" ".join(args), p.returncode, p.stdout))
    return p


def make_root(work):
    """An overlayfs of / with a tmpfs upper layer; /proc, /dev, /run, /tmp fresh."""
    upper_fs = os.path.join(work, "layer")
    os.makedirs(upper_fs)
    if sh(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", upper_fs], check=False).returncode:
        say("cannot mount a tmpfs")
        sys.exit(SKIP)
    for d in ("upper", "work", "root"):
        os.makedirs(os.path.join(upper_fs, d))
    root = os.path.join(upper_fs, "root")
    opts = "lowerdir=/,upperdir=%s/upper,workdir=%s/work" % (upper_fs, upper_fs)
    p = sh(["mount", "-t", "overlay", "overlay", "-o", opts, root], check=False)
    if p.returncode:
        say("cannot mount an overlayfs over /: " + p.stdout.strip())
        sys.exit(SKIP)
    sh(["mount", "-t", "proc", "proc", root + "/proc"])
    sh(["mount", "-t", "tmpfs", "tmpfs", root + "/run"])  # no /run/systemd/system: no systemd
    sh(["mount", "-t", "tmpfs", "tmpfs", root + "/tmp"])
    sh(["mount", "-t", "tmpfs", "tmpfs", root + "/dev"])
    for dev in ("null", "zero", "full", "random", "urandom"):
        open(root + "/dev/" + dev, "w").close()
        sh(["mount", "--bind", "/dev/" + dev, root + "/dev/" + dev])
    sh(["ip", "link", "set", "lo", "up"])
    return root


def chroot(root, args, check=True, **kw):
    return sh(["chroot", root] + args, check=check, **kw)


def check_installed(root):
    passwd = chroot(root, ["getent", "passwd", "aviary"]).stdout.strip().split(":")
    if passwd[5] != "/var/lib/aviary" or "nologin" not in passwd[6]:
        fail("user aviary: %s" % passwd)
    if int(passwd[2]) >= 1000:
        fail("aviary is not a system user: uid %s" % passwd[2])
    chroot(root, ["getent", "group", "aviary"])
    for d in ("/var/lib/aviary", "/var/log/aviary"):
        st = chroot(root, ["stat", "-c", "%U:%G %a", d]).stdout.strip()
        if st != "aviary:aviary 750":
            fail("%s is %s, not aviary:aviary 750" % (d, st))
    conffiles = chroot(root, ["dpkg-query", "-W", "-f=${Conffiles}", "aviary"]).stdout
    for f in ("/etc/aviary/zoo.cfg", "/etc/default/aviary"):
        if f not in conffiles:
            fail("%s is not a registered conffile: %r" % (f, conffiles))
    link = root + "/etc/systemd/system/multi-user.target.wants/aviary.service"
    if not os.path.islink(link) or os.readlink(link) != "/lib/systemd/system/aviary.service":
        fail("postinst did not enable aviary.service (no %s)" % link)
    say("installed: user, group, directories, conffiles, unit enabled (not started: no systemd)")


def harden(root, keys):
    """The unit's filesystem view: everything read-only but ReadWritePaths,
    a private /tmp, no /home or /root (ProtectSystem=strict, PrivateTmp,
    ProtectHome)."""
    rw = keys["ReadWritePaths"].split()
    for path in rw:
        sh(["mount", "--bind", root + path, root + path])
    for path in ("/tmp", "/var/tmp"):
        sh(["mount", "-t", "tmpfs", "tmpfs", root + path])
    for path in ("/home", "/root"):
        sh(["mount", "-t", "tmpfs", "-o", "ro", "tmpfs", root + path])
    sh(["mount", "-o", "remount,bind,ro", root])


def unharden(root, keys):
    sh(["mount", "-o", "remount,bind,rw", root])
    for path in keys["ReadWritePaths"].split() + ["/tmp", "/var/tmp", "/home", "/root"]:
        sh(["umount", root + path])


def start_service(root, keys, log_path):
    """ExecStart as User/Group with no new privileges and no capabilities."""
    if keys["NoNewPrivileges"] != "yes" or keys["CapabilityBoundingSet"] != "":
        fail("unit hardening keys changed: %s" % keys)
    user, group = keys["User"], keys["Group"]
    inner = "umask %s; ulimit -n %s; cd /; exec setpriv --reuid=%s --regid=%s --init-groups " \
            "--no-new-privs --bounding-set=-all --inh-caps=-all -- %s" % (
                keys["UMask"], keys["LimitNOFILE"], user, group, keys["ExecStart"])
    log = open(log_path, "w")
    return subprocess.Popen(["chroot", root, "sh", "-c", inner], stdout=log, stderr=subprocess.STDOUT)


CLIENT = r'''
import socket, sys, time
from kazoo.client import KazooClient
def word(w):
    s = socket.create_connection(("127.0.0.1", 2181), timeout=2); s.sendall(w); s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        d = s.recv(65536)
        if not d: break
        out += d
    return out.decode()
deadline = time.monotonic() + 30
while True:
    try:
        if word(b"ruok") == "imok": break
    except OSError:
        pass
    if time.monotonic() > deadline: sys.exit("the service did not answer ruok on 127.0.0.1:2181")
    time.sleep(0.1)
zk = KazooClient(hosts="127.0.0.1:2181", timeout=10); zk.start(timeout=10)
zk.create("/package-test", b"from the installed package")
assert zk.get("/package-test")[0] == b"from the installed package"
zk.stop(); zk.close()
assert "Mode: standalone" in word(b"srvr"), word(b"srvr")
print("client: created and read /package-test")
'''


def check_service(root, keys, work):
    harden(root, keys)
    log_path = os.path.join(work, "layer", "service.log")
    proc = start_service(root, keys, log_path)
    try:
        p = chroot(root, ["/usr/bin/python3", "-c", CLIENT], check=False, timeout=90)
        if p.returncode != 0:
            fail("client against the service: %s\nservice log:\n%s" % (p.stdout, open(log_path).read()))
        say(p.stdout.strip())
        owners = chroot(root, ["sh", "-c", "stat -c '%U %n' /var/lib/aviary/version-2/*"]).stdout.split("\n")
        owners = [o for o in owners if o]
        if not any("snapshot." in o for o in owners) or not any("/log." in o for o in owners):
            fail("no snapshot or log in /var/lib/aviary/version-2: %s" % owners)
        if any(not o.startswith("aviary ") for o in owners):
            fail("data files not owned by aviary: %s" % owners)
        say("data files owned by aviary: %d" % len(owners))
    finally:
        if proc.poll() is None:
            proc.terminate()  # SIGTERM to the server (sh exec'd into it)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            fail("the service did not stop within 30 s of SIGTERM")
    if rc != 0:
        fail("the service exited %d on SIGTERM:\n%s" % (rc, open(log_path).read()))
    out = open(log_path).read()
    if "serving clients" not in out:
        fail("no start line in the service's log:\n" + out)
    unharden(root, keys)
    say("service: started as aviary under the unit's restrictions, served, stopped with status 0")


def check_upgrade_and_purge(root, deb):
    chroot(root, ["dpkg", "-i", deb])  # same version again: postinst configure <old-version>
    chroot(root, ["dpkg", "--purge", "aviary"])
    for gone in ("/var/lib/aviary", "/var/log/aviary", "/etc/aviary/zoo.cfg", "/etc/default/aviary",
                 "/etc/systemd/system/multi-user.target.wants/aviary.service", "/usr/bin/aviary-server"):
        if os.path.lexists(root + gone):
            fail("%s is still there after dpkg --purge" % gone)
    chroot(root, ["getent", "passwd", "aviary"])
    say("reinstalled, purged: data, logs, conffiles, enablement gone; system user kept")


def main():
    deb, keys_path = sys.argv[1], sys.argv[2]
    keys = json.load(open(keys_path))
    work = sys.argv[3]
    root = make_root(work)
    shutil.copy(deb, root + "/tmp/aviary.deb")
    p = chroot(root, ["dpkg", "-i", "/tmp/aviary.deb"], check=False)
    if p.returncode != 0:
        fail("dpkg -i in the container:\n" + p.stdout)
    say("dpkg -i: " + " ".join(shlex.quote(l) for l in p.stdout.splitlines()[-1:]))
    check_installed(root)
    check_service(root, keys, work)
    check_upgrade_and_purge(root, "/tmp/aviary.deb")
    print("container: all checks passed", flush=True)


if __name__ == "__main__":
    main()
