#!/usr/bin/env bash
# Search latency over 20,000 services (p50/p99, bench/search_bench.cpp) and the finder's
# pages under wrk with that catalog loaded: the service page for a place and a search.
# Writes bench/results/<date>-finder.md. MVSP_BIN names another build of mvsp to serve the
# pages (to compare two versions on the same machine, run once with each).
set -euo pipefail
cd "$(dirname "$0")/.."

services=${BENCH_SERVICES:-20000}
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
mvsp=${MVSP_BIN:-build/mvsp}
work=$(mktemp -d /tmp/mvsp-bench-finder.XXXXXX)
port=18291
args=(--data-dir "$work/var" --database "sqlite:$work/var/mvsp.db")
cleanup() {
  [ -n "${mvsp_pid:-}" ] && kill "$mvsp_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cmake --build build --target mvsp_bench_search > /dev/null
search_table=$(build/bench/mvsp_bench_search --services "$services" --write "$work/catalog.json")

"$mvsp" demo "${args[@]}" > /dev/null 2>&1
"$mvsp" catalog import "$work/catalog.json" "${args[@]}" > /dev/null 2>&1
"$mvsp" serve --listen 127.0.0.1:$port "${args[@]}" > "$work/mvsp.out" 2> "$work/mvsp.log" &
mvsp_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 300); do curl -fs "$base/readyz" > /dev/null 2>&1 && break; sleep 0.1; done

measure() {  # url → "requests/s p99"
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$1" > "$work/wrk.txt"
  echo "$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt") $(awk '$1 == "99%" {print $2}' "$work/wrk.txt")"
}
read -r page_rps page_p99 <<<"$(measure "$base/leistungen/99108008000000?ort=13074087")"
read -r search_rps search_p99 <<<"$(measure "$base/suche?q=Hund+anmelden&ort=13074087")"
read -r api_rps api_p99 <<<"$(measure "$base/api/v1/search?q=Hund%20anmelden")"
rss=$(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' /proc/$mvsp_pid/status)

out=bench/results/$(date +%F)-finder${MVSP_BIN:+-other}.md
cat > "$out" <<MD
# Finder: search over $services services, pages under load ($(date +%F))

- machine: $(nproc) cores, $(uname -r); load: \`wrk -t$threads -c$connections -d$duration\` on the same machine
- catalog: the demo catalog plus generated services (about 150 words each), SQLite
- served by: \`$mvsp\`

## Search (in process, bench/search_bench.cpp)

$search_table

## Pages and API (mvsp serve, over HTTP)

| request | requests/s | p99 |
| --- | --- | --- |
| service page for a place \`/leistungen/99108008000000?ort=13074087\` | $page_rps | $page_p99 |
| search page with place \`/suche?q=Hund+anmelden&ort=13074087\` | $search_rps | $search_p99 |
| search API \`/api/v1/search?q=Hund%20anmelden\` | $api_rps | $api_p99 |

Peak RSS of mvsp: $rss.
MD
cat "$out"
