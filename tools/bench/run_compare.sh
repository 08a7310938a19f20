#!/usr/bin/env bash
# Compares Aviary with Apache ZooKeeper 3.8 (Debian package) on loopback.
#
# Starts three standalone servers, each on a free 127.0.0.1 port with its own
# temp dataDir:
#   aviary     build-bench/aviary-server (write-ahead log, forceSync=yes by default)
#   zk-nosync  ZooKeeper with -Dzookeeper.forceSync=no (log written, not fsynced):
#              the fairest comparison while Aviary has no WAL
#   zk-sync    ZooKeeper with forceSync=yes (its default): only for the write
#              workloads, fsync does not affect reads
# then runs `aviary-bench --compare` for every workload, prints a table (median
# ops/s, ratios, p99, server RSS after each workload) and stops the servers.
#
# Usage: tools/bench/run_compare.sh            (from anywhere)
# Knobs (environment): CLIENTS=32 DEPTH=16 PAYLOAD=100 SECS=10 REPS=3
#   THREADS=1 WARMUP=1 WORKLOADS="set get mixed exists create" KEYS=1000
#   BUILD=/work/main/build-bench (holds aviary-server and aviary-bench)
#   OUT=dir to keep the raw results (default: a temp dir, printed at the end)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
CLIENTS=${CLIENTS:-32}
DEPTH=${DEPTH:-16}
PAYLOAD=${PAYLOAD:-100}
SECS=${SECS:-10}  # (not SECONDS: bash reserves it)
REPS=${REPS:-3}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-1}
KEYS=${KEYS:-1000}
WORKLOADS=${WORKLOADS:-"set get mixed exists create"}
AVIARY_SERVER=${AVIARY_SERVER:-$BUILD/aviary-server}
BENCH=${BENCH:-$BUILD/aviary-bench}

for bin in "$AVIARY_SERVER" "$BENCH"; do
  if [[ ! -x $bin ]]; then
    echo "missing $bin; build it: cmake -S $ROOT -B $BUILD -G Ninja && ninja -C $BUILD -j2 aviary-server aviary-bench" >&2
    exit 1
  fi
done

WORK=$(mktemp -d /tmp/aviary-compare-XXXXXX)
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK/aviary" "$WORK/zk-nosync" "$WORK/zk-sync"
  rmdir "$WORK" 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ZooKeeper's jar plus its dependencies (as tests/diff/servers.py does).
zk_classpath() {
  local cp="" j
  for j in /usr/share/java/zookeeper.jar /usr/share/java/zookeeper-jute.jar /usr/share/java/slf4j-simple.jar \
    /usr/share/zookeeper/lib/*.jar; do
    [[ -f $j && ":$cp:" != *":$j:"* ]] && cp="${cp:+$cp:}$j"
  done
  echo "$cp"
}

write_cfg() {  # dir port
  mkdir -p "$1/data"
  cat >"$1/zoo.cfg" <<EOF
tickTime=2000
initLimit=5
syncLimit=2
dataDir=$1/data
clientPort=$2
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
EOF
}

wait_ready() {  # name port pid
  local i
  for i in $(seq 1 300); do
    if ! kill -0 "$3" 2>/dev/null; then
      echo "$1 exited; log:" >&2
      tail -20 "$WORK/$1/server.log" >&2
      exit 1
    fi
    if python3 - "$2" <<'EOF' 2>/dev/null; then return 0; fi
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"ruok")
sys.exit(0 if s.recv(4) == b"imok" else 1)
EOF
    sleep 0.1
  done
  echo "$1 not ready after 30 s" >&2
  exit 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

declare -A PORT PID
start_aviary() {
  local d=$WORK/aviary
  PORT[aviary]=$(free_port)
  write_cfg "$d" "${PORT[aviary]}"
  (cd "$d" && exec "$AVIARY_SERVER" "$d/zoo.cfg" >"$d/server.log" 2>&1) &
  PID[aviary]=$!
  PIDS+=("$!")
  wait_ready aviary "${PORT[aviary]}" "${PID[aviary]}"
}

start_zk() {  # name forceSync(yes|no)
  local d=$WORK/$1
  PORT[$1]=$(free_port)
  write_cfg "$d" "${PORT[$1]}"
  # The heap of zkServer.sh's default (ZK_SERVER_HEAP=1000), JVM defaults otherwise.
  (cd "$d" && exec java -Xmx1000m -cp "$(zk_classpath)" \
    -Dzookeeper.forceSync="$2" -Dzookeeper.admin.enableServer=false -Dzookeeper.4lw.commands.whitelist='*' \
    org.apache.zookeeper.server.ZooKeeperServerMain "$d/zoo.cfg" >"$d/server.log" 2>&1) &
  PID[$1]=$!
  PIDS+=("$!")
  wait_ready "$1" "${PORT[$1]}" "${PID[$1]}"
}

start_aviary
start_zk zk-nosync no
start_zk zk-sync yes
echo "servers: aviary pid ${PID[aviary]} port ${PORT[aviary]}; zk-nosync pid ${PID[zk-nosync]} port ${PORT[zk-nosync]};" \
  "zk-sync pid ${PID[zk-sync]} port ${PORT[zk-sync]}" >&2
{
  echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "aviary: $("$AVIARY_SERVER" --version 2>/dev/null || echo unknown); zookeeper: $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null); $(java -version 2>&1 | head -1)"
  echo "load: clients=$CLIENTS threads=$THREADS depth=$DEPTH payload=${PAYLOAD}B keys=$KEYS seconds=$SECS warmup=$WARMUP reps=$REPS"
} | tee "$OUT/setup.txt" >&2

common=(--clients "$CLIENTS" --threads "$THREADS" --depth "$DEPTH" --payload "$PAYLOAD" --keys "$KEYS" --warmup "$WARMUP")
# Warm every server (JIT for ZooKeeper) with a short unmeasured mixed load.
for s in aviary zk-nosync zk-sync; do
  "$BENCH" "${common[@]}" --servers "127.0.0.1:${PORT[$s]}" --workload mixed --read-pct 50 --seconds 3 >/dev/null
done

for w in $WORKLOADS; do
  targets="aviary=127.0.0.1:${PORT[aviary]},zk-nosync=127.0.0.1:${PORT[zk-nosync]}"
  case $w in create | set | mixed) targets+=",zk-sync=127.0.0.1:${PORT[zk-sync]}" ;; esac
  echo "== $w ($targets)" >&2
  "$BENCH" "${common[@]}" --workload "$w" --seconds "$SECS" --reps "$REPS" --compare "$targets" --json \
    >"$OUT/$w.json" 2> >(tee "$OUT/$w.log" >&2)
  echo "{\"aviary\": $(rss_kb "${PID[aviary]}"), \"zk-nosync\": $(rss_kb "${PID[zk-nosync]}"), \"zk-sync\": $(rss_kb "${PID[zk-sync]}")}" \
    >"$OUT/$w.rss.json"
done

python3 - "$OUT" $WORKLOADS <<'EOF' | tee "$OUT/table.md"
import json, sys
out, workloads = sys.argv[1], sys.argv[2:]
print("| workload | aviary ops/s | zk-nosync ops/s | aviary/zk-nosync | zk-sync ops/s | aviary/zk-sync "
      "| p99 ms aviary / zk-nosync / zk-sync | RSS MiB aviary / zk-nosync / zk-sync |")
print("|---|---:|---:|---:|---:|---:|---|---|")
for w in workloads:
    r = json.load(open(f"{out}/{w}.json"))
    rss = json.load(open(f"{out}/{w}.rss.json"))
    t = {x["name"]: x for x in r["targets"]}
    def ops(n): return f'{t[n]["median_ops_per_sec"]:,.0f}' if n in t else "-"
    def p99(n): return f'{t[n]["median_p99_us"] / 1000:.2f}' if n in t else "-"
    def ratio(n):
        return f'{r["ratios"]["aviary/" + n]:.2f}' if "aviary/" + n in r["ratios"] else "-"
    errs = sum(x["errors"] for x in r["targets"])
    name = w + (f" ({errs} errors)" if errs else "")
    print(f"| {name} | {ops('aviary')} | {ops('zk-nosync')} | {ratio('zk-nosync')} | {ops('zk-sync')} "
          f"| {ratio('zk-sync')} | {p99('aviary')} / {p99('zk-nosync')} / {p99('zk-sync')} "
          f"| {rss['aviary'] / 1024:.0f} / {rss['zk-nosync'] / 1024:.0f} / {rss['zk-sync'] / 1024:.0f} |")
EOF
echo "raw results in $OUT" >&2
