#!/usr/bin/env bash
# The clerk's inbox with many Vorgänge (bench/inbox_bench.cpp): p50 and p99 of the inbox
# queries a clerk and a lead make (groups and state, deadline order, search by name and by
# reference number, the next page), on SQLite and on PostgreSQL, with 10^6 Vorgänge of one
# authority (BENCH_SIZES to change; BENCH_REPETITIONS queries each, default 300).
# Writes bench/results/<date>-inbox.md.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=${BENCH_SIZES:-1000000}
repetitions=${BENCH_REPETITIONS:-300}
work=$(mktemp -d /tmp/mvsp-bench-inbox.XXXXXX)
chmod 755 "$work"  # the PostgreSQL server runs as its own user
port=18295
cleanup() {
  scripts/test-postgres stop "$work/pg" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cmake --build build --target mvsp_bench_inbox > /dev/null
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
    out=$(build/bench/mvsp_bench_inbox "$target" "$n" "$repetitions" 2> "$work/$backend-$n.log")
    echo "$out"
    while IFS= read -r line; do
      case "$line" in
        query=*)
          name=$(sed -n 's/^query="\([^"]*\)".*/\1/p' <<<"$line")
          p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$line")
          p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")
          rows+="| $backend | $n | $name | $p50 | $p99 |"$'\n'
          ;;
      esac
    done <<<"$out"
    raw+="$backend:"$'\n'"$out"$'\n'
  done
done

out="bench/results/$(date +%F)-inbox.md"
cat > "$out" <<MD
# Cases: the clerk's inbox at scale ($(date +%F))

\`bench/run inbox\` ($(nproc) cores, $(uname -m)), at $(git rev-parse --short HEAD). N Vorgänge of one
authority (all in one tenant: the worst case) in five groups, most of them closed as after a
year of work, each with the search words the intake writes (reference number, applicant's
given and family name; names drawn as people have them, the most common family name on 0.6 %
of the Vorgänge and the most common given name on 2.5 %), written with multi-row INSERTs in
the intake's shape. Then
$repetitions runs of each inbox query through \`Casework::inbox\` as the pages call it, with
other words each time where the query searches; the clerk is a member of one group and sees
its Vorgänge and those of no group, the lead sees all. The PostgreSQL is the test server of
\`scripts/test-postgres\` (fsync off, default memory settings), after VACUUM ANALYZE (as
autovacuum leaves tables that grew over a year). Goal: p99 under 20 ms.

| database | Vorgänge | query | p50 ms | p99 ms |
|---|---:|---|---:|---:|
$rows
Raw lines:

\`\`\`
$raw\`\`\`
MD
echo "wrote $out"
