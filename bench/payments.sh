#!/usr/bin/env bash
# The payment platform over HTTP (bench/payments_bench.cpp): payment orders created per
# second through the API, and provider notifications handled per second (first pushes,
# each making an order paid, then the same pushes again as duplicates), on SQLite and on
# PostgreSQL, for 1000 and 10000 orders (BENCH_SIZES to change).
# Writes bench/results/<date>-payments.md.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=${BENCH_SIZES:-1000 10000}
clients=${BENCH_CLIENTS:-8}
work=$(mktemp -d /tmp/mvsp-bench-payments.XXXXXX)
chmod 755 "$work"  # the PostgreSQL server runs as its own user
port=18294
cleanup() {
  scripts/test-postgres stop "$work/pg" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cmake --build build --target mvsp_bench_payments > /dev/null
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
rows=""
raw=""
for n in $sizes; do
  for backend in sqlite postgresql; do
    target=sqlite
    if [ "$backend" = postgresql ]; then
      scripts/test-postgres stop "$work/pg" > /dev/null 2>&1 || true
      rm -rf "$work/pg"
      target=$(scripts/test-postgres start "$work/pg" "$port")
    fi
    line=$(build/bench/mvsp_bench_payments "$target" "$n" "$clients" 2> "$work/$backend-$n.log" | tail -n 1)
    echo "$line"
    rows+="| $backend | $n | $(field created_per_second "$line") | $(field notifications_per_second "$line") | $(field duplicates_per_second "$line") |"$'\n'
    raw+="$line"$'\n'
  done
done

out="bench/results/$(date +%F)-payments.md"
cat > "$out" <<MD
# Payments: orders and notifications ($(date +%F))

\`bench/run payments\` ($(nproc) cores, $(uname -m)), at $(git rev-parse --short HEAD). N payment
orders created by $clients client threads over HTTP (\`POST /api/v1/payments\`, JSON, own
Idempotency-Key each: validation, the Kassenzeichen's running number, the order, its journal
entry and audit record in one transaction); then each order started at the payment
simulator (not measured); then one signed push per order to
\`/zahlung/benachrichtigung/{provider}\` (HMAC check, compare-and-set to paid, journal,
audit) from $clients threads, and the same pushes again (duplicates: checked and found to
change nothing). Client, server, simulator and database share the machine. The PostgreSQL
is the test server of \`scripts/test-postgres\` (fsync off), so its figures are an upper
bound.

| database | orders | created per second | notifications per second | duplicate notifications per second |
|---|---:|---:|---:|---:|
$rows
Raw lines:

\`\`\`
$raw\`\`\`
MD
echo "wrote $out"
