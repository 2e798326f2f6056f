#!/usr/bin/env bash
# The delivery service into our own mailbox, over HTTP (bench/delivery_bench.cpp):
# notices accepted per second and delivered with storage receipt per second, on SQLite
# and on PostgreSQL, with 10^3, 10^4 and 10^5 notices queued (BENCH_SIZES to change).
# Writes bench/results/<date>-delivery.md.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=${BENCH_SIZES:-1000 10000 100000}
clients=${BENCH_CLIENTS:-8}
workers=${BENCH_WORKERS:-4}
work=$(mktemp -d /tmp/mvsp-bench-delivery.XXXXXX)
chmod 755 "$work"  # the PostgreSQL server runs as its own user
port=18293
cleanup() {
  scripts/test-postgres stop "$work/pg" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cmake --build build --target mvsp_bench_delivery > /dev/null
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
rows=""
raw=""
for n in $sizes; do
  for backend in sqlite postgresql; do
    target=sqlite
    if [ "$backend" = postgresql ]; then
      # A fresh server for each run, so that no run inherits another's tables.
      scripts/test-postgres stop "$work/pg" > /dev/null 2>&1 || true
      rm -rf "$work/pg"
      target=$(scripts/test-postgres start "$work/pg" "$port")
    fi
    line=$(build/bench/mvsp_bench_delivery "$target" "$n" "$clients" "$workers" 2> "$work/$backend-$n.log" | tail -n 1)
    echo "$line"
    rows+="| $backend | $n | $(field accepted_per_second "$line") | $(field delivered_per_second "$line") | $(field cpu_ms_per_delivery "$line") |"$'\n'
    raw+="$line"$'\n'
  done
done

out="bench/results/$(date +%F)-delivery.md"
cat > "$out" <<MD
# Delivery service: notices into our own mailbox ($(date +%F))

\`bench/run delivery\` ($(nproc) cores, $(uname -m)), at $(git rev-parse --short HEAD). N notices,
each with a 60 KB PDF, posted by $clients client threads over HTTP (\`POST /api/v1/notices\`,
multipart, own Idempotency-Key each) to an instance without job workers; then an instance
with $workers job workers delivers all N that are queued into the \`mvsp\` mailbox (storage
receipt, proof records, the mailbox's notification jobs; no mail server listens, so those
fail and wait for their retry). Client, server and database share the machine. The
PostgreSQL is the test server of \`scripts/test-postgres\` (fsync off), so its figures are
an upper bound. CPU per delivery is this process's (all threads) during delivery, not the
PostgreSQL server's.

| database | queued | accepted per second | delivered with receipt per second | CPU ms per delivery |
|---|---:|---:|---:|---:|
$rows
Raw lines:

\`\`\`
$raw\`\`\`
MD
echo "wrote $out"
