#!/usr/bin/env bash
# The HTTP engine under many connections, tried as an attacker and a crowd would: 1,000
# half-open connections from other addresses, then how long a new visitor waits; 10,000
# idle keep-alive connections held, and what they cost in memory. Writes
# bench/results/<date>-connections.md.
set -euo pipefail
cd "$(dirname "$0")/.."

port=18183
work=$(mktemp -d /tmp/mvsp-bench.XXXXXX)
ulimit -n "$(ulimit -Hn)"
holders=()
cleanup() {
  for p in "${holders[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${mvsp_pid:-}" ] && kill "$mvsp_pid" 2>/dev/null && wait "$mvsp_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Idle and half-open connections are kept long enough to be measured.
cat > "$work/mvsp.toml" <<TOML
[server]
keep_alive_seconds = 300
head_timeout_seconds = 120
TOML
build/mvsp serve --config "$work/mvsp.toml" --listen 127.0.0.1:$port --data-dir "$work/var" \
  --database "sqlite:$work/var/mvsp.db" > "$work/mvsp.out" 2> "$work/mvsp.log" &
mvsp_pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

rss() { awk '/VmRSS/ {print $2}' "/proc/$mvsp_pid/status"; }
# Seconds a new visitor waits for the start page: the slowest and the median of 20.
visitor() {
  for _ in $(seq 20); do
    curl -s -o /dev/null -m 30 -w '%{time_total}\n' "http://127.0.0.1:$port/"
  done | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f ms (median %.1f ms)", a[NR] * 1000, a[int((NR + 1) / 2)] * 1000 }'
}
# Starts a holder and waits until its connections are open; sets `held` to how many are.
hold() {
  local fifo=$work/holder-$RANDOM
  mkfifo "$fifo"
  bench/hold_connections.py "$port" "$@" > "$fifo" 2>/dev/null &
  holders+=($!)
  local line
  read -r line < "$fifo"
  held=${line#ready }
}

for _ in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$port/"; done
baseline_visitor=$(visitor)
baseline_rss=$(rss)

hold 1000 half-open 0
half_open=$held
half_open_visitor=$(visitor)
kill "${holders[-1]}"
sleep 2

before_idle=$(rss)
hold 10000 idle 1000
idle=$held
sleep 1
after_idle=$(rss)
idle_visitor=$(visitor)
per_connection=$(awk -v a="$after_idle" -v b="$before_idle" -v n="$idle" 'BEGIN { printf "%.1f", (a - b) / n }')

out=bench/results/$(date +%F)-connections.md
cat > "$out" <<MD
# Many connections: half-open attackers and idle keep-alive crowds

- date: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)
- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)
- mvsp: \`build/mvsp serve\` with defaults but \`keep_alive_seconds = 300\` and
  \`head_timeout_seconds = 120\` (so that the connections stay while they are measured); SQLite
- clients: \`bench/hold_connections.py\` from 127.0.10.1 upwards, 250 connections per address;
  the new visitor is \`curl\` from 127.0.0.1, 20 requests of the start page one after another

| situation | connections held | new visitor: slowest of 20 |
| --- | ---: | ---: |
| nothing else open | 0 | $baseline_visitor |
| half-open (request line and one header, never finished) | $half_open | $half_open_visitor |
| idle keep-alive (one request answered, then silence) | $idle | $idle_visitor |

Memory: resident $((baseline_rss / 1024)) MiB at rest; $((before_idle / 1024)) MiB before and
$((after_idle / 1024)) MiB with the $idle idle connections open, about $per_connection KiB
per connection (socket buffers in the kernel not counted).
MD
cat "$out"
