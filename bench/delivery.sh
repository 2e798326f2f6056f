#!/usr/bin/env bash
# The delivery service into our own mailbox, over HTTP (bench/delivery_bench.cpp):
# notices accepted per second and delivered with storage receipt per second, on SQLite
# and on PostgreSQL. Writes bench/results/<date>-delivery.md.
set -euo pipefail
cd "$(dirname "$0")/.."

notices=${BENCH_NOTICES:-5000}
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
pg=$(scripts/test-postgres start "$work/pg" "$port")
sqlite=$(build/bench/mvsp_bench_delivery sqlite "$notices" "$clients" "$workers" 2> "$work/sqlite.log" | tail -n 1)
postgres=$(build/bench/mvsp_bench_delivery "$pg" "$notices" "$clients" "$workers" 2> "$work/pg.log" | tail -n 1)
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

out="bench/results/$(date +%F)-delivery.md"
cat > "$out" <<MD
# Delivery service: notices into our own mailbox ($(date +%F))

\`bench/run delivery\` ($(nproc) cores, $(uname -m)). $notices notices, each with a 60 KB PDF,
posted by $clients client threads over HTTP (\`POST /api/v1/notices\`, multipart, own
Idempotency-Key each) to an instance without job workers; then an instance with $workers
job workers delivers them all into the \`mvsp\` mailbox (storage receipt, proof records,
notification jobs). Client, server and database share the machine. The PostgreSQL is the
test server of \`scripts/test-postgres\` (fsync off), so its figures are an upper bound.

| database | accepted per second | delivered with receipt per second |
|---|---:|---:|
| SQLite (WAL) | $(field accepted_per_second "$sqlite") | $(field delivered_per_second "$sqlite") |
| PostgreSQL $(ls /usr/lib/postgresql | sort -V | tail -n 1) | $(field accepted_per_second "$postgres") | $(field delivered_per_second "$postgres") |

Raw lines:

\`\`\`
$sqlite
$postgres
\`\`\`
MD
echo "wrote $out"
cat "$out"
