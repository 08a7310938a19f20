#!/bin/bash
# Runs inside a container booted with systemd (boot.py), as the oneshot
# unit aviary-probe.service: installs the package with systemd running, so
# the maintainer scripts enable and start the service for real, then checks
# the running service, restarts, stops, removes and purges it. Every step
# appends to /probe.out; the last line is "PROBE OK" or "PROBE FAILED: ...".
# Ends by powering the container off.
OUT=/probe.out
log() { echo "$*" >> $OUT; }
fail() { log "PROBE FAILED: $*"; journalctl -u aviary --no-pager -n 50 >> $OUT 2>&1; systemctl --no-block poweroff; exit 1; }
client() {  # client create|check
  /usr/bin/python3 - "$1" <<'PY' >> $OUT 2>&1
import sys, time
from kazoo.client import KazooClient
deadline = time.monotonic() + 30
while True:
    try:
        zk = KazooClient(hosts="127.0.0.1:2181", timeout=10)
        zk.start(timeout=5)
        break
    except Exception as e:
        if time.monotonic() > deadline:
            sys.exit("cannot connect: %s" % e)
        time.sleep(0.2)
if sys.argv[1] == "create":
    zk.create("/under-systemd", b"kept across a restart")
assert zk.get("/under-systemd")[0] == b"kept across a restart"
print("client:", sys.argv[1], "ok")
zk.stop(); zk.close()
PY
}
prop() { systemctl show aviary -p "$1" --value; }

: > $OUT
log "system: $(systemctl is-system-running), pid 1 is $(cat /proc/1/comm)"
DEBIAN_FRONTEND=noninteractive dpkg -i /var/cache/aviary-test/aviary.deb >> $OUT 2>&1 || fail "dpkg -i"
for i in $(seq 1 100); do [ "$(prop ActiveState)" = active ] && break; sleep 0.1; done
[ "$(prop ActiveState)" = active ] || fail "postinst did not start aviary.service: $(prop ActiveState)"
[ "$(systemctl is-enabled aviary)" = enabled ] || fail "not enabled"
log "postinst: enabled and started"
client create || fail "client against the started service"
pid=$(prop MainPID)
user=$(ps -o user= -p "$pid")
[ "$user" = aviary ] || fail "MainPID $pid runs as $user"
caps=$(awk '/^CapBnd/ {print $2}' /proc/$pid/status)
[ "$caps" = 0000000000000000 ] || fail "bounding set $caps"
nnp=$(awk '/^NoNewPrivs/ {print $2}' /proc/$pid/status)
[ "$nnp" = 1 ] || fail "NoNewPrivs $nnp"
log "service: pid $pid as aviary, no capabilities, no new privileges"
# The start-up snapshot is written by a forked child: it must work under
# the unit's system call filter and namespaces.
for i in $(seq 1 100); do journalctl -u aviary --no-pager | grep -q "snapshot 0x[0-9a-f]* written" && break; sleep 0.1; done
journalctl -u aviary --no-pager | grep -q "snapshot 0x[0-9a-f]* written" || fail "no forked snapshot written"
ls /var/lib/aviary/version-2/snapshot.* >/dev/null || fail "no snapshot file"
log "snapshot: the forked child wrote it"
systemctl restart aviary || fail "restart"
client check || fail "data after a restart"
[ "$(prop NRestarts)" = 0 ] || fail "the service restarted by itself: $(prop NRestarts)"
if [ -f /var/cache/aviary-test/aviary-next.deb ]; then
  # Upgrade: a locally changed conffile is kept, the service restarts on
  # the new package's files once and the data stays.
  echo "# changed by the operator" >> /etc/aviary/zoo.cfg
  old_pid=$(prop MainPID)
  DEBIAN_FRONTEND=noninteractive dpkg -i /var/cache/aviary-test/aviary-next.deb >> $OUT 2>&1 || fail "upgrade"
  [ "$(dpkg-query -W -f='${Version}' aviary)" = "$(dpkg-deb -f /var/cache/aviary-test/aviary-next.deb Version)" ] \
    || fail "upgrade: version $(dpkg-query -W -f='${Version}' aviary)"
  grep -q "changed by the operator" /etc/aviary/zoo.cfg || fail "upgrade replaced the changed conffile"
  for i in $(seq 1 100); do [ "$(prop ActiveState)" = active ] && break; sleep 0.1; done
  [ "$(prop ActiveState)" = active ] || fail "not active after the upgrade"
  [ "$(prop MainPID)" != "$old_pid" ] || fail "the upgrade did not restart the service"
  client check || fail "data after the upgrade"
  log "upgrade: to $(dpkg-query -W -f='${Version}' aviary), conffile kept, service restarted (pid $old_pid -> $(prop MainPID))"
fi
systemctl stop aviary
[ "$(prop ActiveState)" = inactive ] || fail "stop: $(prop ActiveState)"
[ "$(prop Result)" = success ] || fail "stop result: $(prop Result) status $(prop ExecMainStatus)"
log "stop: SIGTERM, exit status $(prop ExecMainStatus)"
systemctl start aviary
dpkg --remove aviary >> $OUT 2>&1 || fail "dpkg --remove"
systemctl is-active aviary >/dev/null && fail "still active after remove"
[ -d /var/lib/aviary/version-2 ] || fail "remove deleted the data"
dpkg --purge aviary >> $OUT 2>&1 || fail "dpkg --purge"
[ -e /var/lib/aviary ] && fail "purge kept /var/lib/aviary"
log "remove: stopped, data kept; purge: data gone"
log "PROBE OK"
systemctl --no-block poweroff
