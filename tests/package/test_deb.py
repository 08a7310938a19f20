"""The Debian package built with CPack from the build tree: its control
data (name, version, dependencies from dpkg-shlibdeps, conffiles,
maintainer scripts), its files, its systemd unit (systemd-analyze verify and
security, and the keys the issue asks for), then installed twice:
into a container-like root without systemd (container.py: the postinst's
no-systemd path, the service started as the unit says with its sandbox
emulated), and into a container booted with systemd (boot.py +
systemd_probe.sh: the real unit started by the postinst). Both are skipped,
with the reason, where the machine cannot make the container."""

import json
import os
import re
import shutil
import subprocess

import pytest

from pkgsupport import BUILD_DIR, cli_target_exists, project_version, run

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    out = tmp_path_factory.mktemp("cpack")
    run(["cpack", "-G", "DEB", "-B", str(out), "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake")])
    debs = [f for f in os.listdir(out) if f.endswith(".deb")]
    assert len(debs) == 1, debs
    return str(out / debs[0])


@pytest.fixture(scope="module")
def next_deb(deb, tmp_path_factory):
    """The same package with a newer version, to test the upgrade path
    (repacked with dpkg-deb: only the control file's Version differs)."""
    out = tmp_path_factory.mktemp("next")
    tree = out / "tree"
    run(["dpkg-deb", "-R", deb, str(tree)])
    version = project_version() + "+next1"
    control = (tree / "DEBIAN" / "control").read_text()
    (tree / "DEBIAN" / "control").write_text(re.sub(r"(?m)^Version: .*$", "Version: " + version, control))
    path = str(out / "aviary-next.deb")
    run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(tree), path])
    assert field(path, "Version") == version
    return path


@pytest.fixture(scope="module")
def extracted(deb, tmp_path_factory):
    root = tmp_path_factory.mktemp("deb")
    run(["dpkg-deb", "-x", deb, str(root / "data")])
    run(["dpkg-deb", "-e", deb, str(root / "control")])
    return root


def field(deb, name):
    return run(["dpkg-deb", "-f", deb, name]).stdout.strip()


def test_control_fields(deb):
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    assert os.path.basename(deb) == "aviary_%s_%s.deb" % (project_version(), arch)
    assert field(deb, "Package") == "aviary"
    assert field(deb, "Version") == project_version()
    assert field(deb, "Architecture") == arch
    depends = [d.strip().split(" ")[0] for d in field(deb, "Depends").split(",")]
    # dpkg-shlibdeps found the libraries the binaries link; the maintainer
    # scripts need adduser and deb-systemd-helper.
    for pkg in ("libc6", "libstdc++6", "libssl3", "libsasl2-2", "adduser", "init-system-helpers"):
        assert pkg in depends, (pkg, depends)
    assert any(d.startswith("libfmt") for d in depends), depends


def test_files(deb, extracted):
    listing = run(["dpkg-deb", "-c", deb]).stdout
    paths = {line.split()[5] for line in listing.splitlines()}
    for path in ("./usr/bin/aviary-server", "./usr/bin/aviary-dump", "./usr/bin/aviary-bench",
                 "./etc/aviary/zoo.cfg", "./etc/default/aviary", "./lib/systemd/system/aviary.service",
                 "./usr/share/doc/aviary/OPERATIONS.md", "./usr/share/doc/aviary/examples/ensemble-3.cfg"):
        assert path in paths, path
    if cli_target_exists():
        assert "./usr/bin/aviary" in paths
    assert not any(p.startswith("./usr/etc") or p.startswith("./usr/local") for p in paths)
    owners = {line.split()[1] for line in listing.splitlines()}
    assert owners == {"root/root"}, owners
    for name in ("aviary-server", "aviary-dump", "aviary-bench"):
        desc = run(["file", "-b", str(extracted / "data" / "usr" / "bin" / name)]).stdout
        assert "ELF" in desc and "not stripped" not in desc, desc
    out = run([str(extracted / "data" / "usr" / "bin" / "aviary-server"), "--version"]).stdout
    assert out.startswith("aviary-server %s " % project_version()), out


def test_conffiles_and_scripts(extracted):
    control = extracted / "control"
    assert open(control / "conffiles").read().split() == ["/etc/aviary/zoo.cfg", "/etc/default/aviary"]
    for script in ("postinst", "prerm", "postrm"):
        path = control / script
        assert os.access(path, os.X_OK), script
        text = open(path).read()
        assert text.startswith("#!/bin/sh\n") and "set -e" in text, script
        run(["sh", "-n", str(path)])
        if shutil.which("dash"):
            run(["dash", "-n", str(path)])
    postinst = open(control / "postinst").read()
    # Enabled and started as debhelper does, never assuming systemd runs.
    assert "deb-systemd-helper" in postinst and "deb-systemd-invoke" in postinst
    assert "[ -d /run/systemd/system ]" in postinst


def test_default_config_is_the_service_config(extracted):
    cfg = open(extracted / "data" / "etc" / "aviary" / "zoo.cfg").read()
    assert re.search(r"(?m)^dataDir=/var/lib/aviary$", cfg)
    assert re.search(r"(?m)^clientPort=2181$", cfg)


def unit_keys(path):
    """[Service] keys of a unit; repeated keys are joined with a blank."""
    keys = {}
    section = None
    for raw in open(path):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        keys.setdefault(section, {})
        old = keys[section].get(key)
        keys[section][key] = value if old is None or value == "" else (old + " " + value)
    return keys


def test_unit_keys(extracted):
    keys = unit_keys(extracted / "data" / "lib" / "systemd" / "system" / "aviary.service")
    svc = keys["Service"]
    assert svc["ExecStart"] == "/usr/bin/aviary-server /etc/aviary/zoo.cfg"
    assert svc["User"] == "aviary" and svc["Group"] == "aviary"
    assert svc["NoNewPrivileges"] == "yes"
    assert svc["ProtectSystem"] == "strict"
    assert set(svc["ReadWritePaths"].split()) == {"/var/lib/aviary", "/var/log/aviary"}
    assert svc["PrivateTmp"] == "yes" and svc["ProtectHome"] == "yes"
    assert svc["CapabilityBoundingSet"] == ""
    assert {"AF_INET", "AF_INET6"} <= set(svc["RestrictAddressFamilies"].split())
    assert int(svc["LimitNOFILE"]) >= 65536
    assert svc["Restart"] == "on-failure"
    assert keys["Install"]["WantedBy"] == "multi-user.target"
    # The server forks a child for each snapshot: nothing may forbid fork/prctl.
    assert "@system-service" in svc["SystemCallFilter"]
    assert "TasksMax" not in svc and "PrivatePIDs" not in svc


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed (package systemd)")
def test_unit_verifies(extracted, tmp_path):
    # verify loads the unit's dependencies (sysinit.target, ...) and checks
    # that ExecStart's binary exists: a root with the package's files and
    # the host's system units.
    root = tmp_path / "root"
    shutil.copytree(extracted / "data", root, symlinks=True)
    shutil.copytree("/lib/systemd/system", root / "lib" / "systemd" / "system", symlinks=True, dirs_exist_ok=True)
    unit = root / "lib" / "systemd" / "system" / "aviary.service"
    p = subprocess.run(["systemd-analyze", "verify", "--root=%s" % root, "--man=no", str(unit)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    problems = [l for l in p.stdout.splitlines() if "aviary.service" in l]
    assert p.returncode == 0 and not problems, p.stdout
    p = run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)])
    m = re.search(r"Overall exposure level for aviary.service: ([0-9.]+)", p.stdout)
    assert m, p.stdout
    # systemd rates <= 2.0 as OK (a plain unit is 9.6 UNSAFE).
    assert float(m.group(1)) <= 2.0, p.stdout


def container_unsupported():
    if os.geteuid() != 0:
        return "needs root to make mount/net/pid namespaces and an overlayfs root (uid %d)" % os.geteuid()
    for tool in ("unshare", "chroot", "setpriv", "ip", "dpkg"):
        if shutil.which(tool) is None:
            return "%s is not installed" % tool
    p = subprocess.run(["unshare", "--mount", "--net", "--pid", "--fork", "true"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        return "this machine does not allow new namespaces: " + p.stdout.strip()
    return None


def test_install_and_start_in_container(deb, extracted, tmp_path):
    reason = container_unsupported()
    if reason:
        pytest.skip(reason)
    svc = unit_keys(extracted / "data" / "lib" / "systemd" / "system" / "aviary.service")["Service"]
    keys_path = tmp_path / "unit.json"
    work = tmp_path / "work"
    work.mkdir()
    keys_path.write_text(json.dumps(svc))
    p = subprocess.run(["unshare", "--mount", "--net", "--pid", "--fork", "--mount-proc", "/usr/bin/python3",
                        os.path.join(HERE, "container.py"), deb, str(keys_path), str(work)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=240)
    print(p.stdout)
    if p.returncode == 77:
        pytest.skip(p.stdout.strip().splitlines()[-1])
    assert p.returncode == 0, p.stdout
    assert "container: all checks passed" in p.stdout


def test_install_and_run_under_systemd(deb, next_deb, tmp_path):
    """The package installed with systemd running (systemd-nspawn booting an
    overlayfs copy of this machine's root into a target of the basic system
    plus systemd_probe.sh): the postinst enables and starts the service, it
    runs as aviary with no capabilities and no new privileges under the
    unit's sandbox, its forked snapshot child works, a kazoo client's znode
    survives `systemctl restart` and an upgrade to a newer version (which
    keeps a changed conffile and restarts the service), `systemctl stop`
    ends it with status 0, remove stops it and keeps the data, purge
    deletes it."""
    reason = container_unsupported()
    if reason:
        pytest.skip(reason)
    if shutil.which("systemd-nspawn") is None:
        pytest.skip("systemd-nspawn not installed (package systemd-container)")
    p = subprocess.run(["unshare", "--mount", "--fork", "/usr/bin/python3", os.path.join(HERE, "boot.py"), deb, str(tmp_path), next_deb],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=200)
    print(p.stdout)
    if p.returncode == 77:
        pytest.skip("this machine cannot boot a systemd container: " + p.stdout.strip()[-500:])
    assert p.returncode == 0, p.stdout
    for step in ("postinst: enabled and started", "service: pid", "snapshot: the forked child wrote it",
                 "client: check ok", "upgrade: to %s+next1, conffile kept" % project_version(),
                 "stop: SIGTERM, exit status 0", "PROBE OK"):
        assert step in p.stdout, step
