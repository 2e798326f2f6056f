#!/usr/bin/env bash
# The citizen's whole journey over HTTP (bench/applications_bench.cpp): complete applications
# per second, as a guest and signed in, on SQLite and on PostgreSQL, with every page's
# latency (p50, p99, max) during the run. A real clamd scans the uploads (scripts/test-clamd),
# the job workers hand each submitted application over to cases (a Vorgang each), and the
# bench waits until every one is received.
#   BENCH_SECONDS      seconds per run (30)
#   BENCH_CITIZENS     virtual citizens, one thread and connection each (32)
#   BENCH_JOB_WORKERS  the platform's job workers (2, as `mvsp serve`)
#   BENCH_BACKENDS     "sqlite postgresql"
#   BENCH_VARIANTS     "guest login"
# Writes bench/results/<date>-applications.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-30}
citizens=${BENCH_CITIZENS:-32}
workers=${BENCH_JOB_WORKERS:-2}
backends=${BENCH_BACKENDS:-sqlite postgresql}
variants=${BENCH_VARIANTS:-guest login}
work=$(mktemp -d /tmp/mvsp-bench-applications.XXXXXX)
chmod 755 "$work"  # the PostgreSQL server runs as its own user
pg_port=18295
clamd_port=18311
cleanup() {
  scripts/test-postgres stop "$work/pg" > /dev/null 2>&1 || true
  scripts/test-clamd stop "$work/clamd" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cmake --build build --target mvsp_bench_applications > /dev/null
clamd=$(scripts/test-clamd start "$work/clamd" "$clamd_port")
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
# page lines to table rows; a page's p99 over 50 ms in bold
pages() {
  sed -n 's/^\(page\|step\) route=\(.*\) count=\([0-9]*\) p50=\([0-9.]*\) p99=\([0-9.]*\) max=\([0-9.]*\)$/\1|\2|\3|\4|\5|\6/p' "$1" |
    awk -F'|' '{ p99 = ($1 == "page" && $5 + 0 > 50) ? "**" $5 "**" : $5;
                 printf "| %s | %s | %s | %s | %s |\n", $2, $3, $4, p99, $6 }'
}
rows=""
details=""
raw=""
for backend in $backends; do
  for variant in $variants; do
    target=sqlite
    if [ "$backend" = postgresql ]; then
      scripts/test-postgres stop "$work/pg" > /dev/null 2>&1 || true
      rm -rf "$work/pg"
      target=$(scripts/test-postgres start "$work/pg" "$pg_port")
    fi
    out="$work/$backend-$variant.out"
    build/bench/mvsp_bench_applications "$target" "$clamd" "$variant" "$seconds" "$citizens" \
      "$workers" > "$out" 2> "$work/$backend-$variant.log" || true
    line=$(grep '^variant=' "$out" | tail -n 1)
    if [ -z "$line" ]; then
      echo "$backend $variant: no result" >&2
      tail -n 20 "$work/$backend-$variant.log" >&2
      exit 1
    fi
    echo "$backend $line"
    rows+="| $backend | $variant | $(field journeys_per_second "$line") | $(field journeys "$line") | $(field failed "$line") | $(field drain_seconds "$line") | $(field with_handover_per_second "$line") | $(field vorgaenge "$line") | $(field worst_p99 "$line") |"$'\n'
    details+=$'\n'"### $backend, $variant"$'\n\n'"| route | requests | p50 ms | p99 ms | max ms |"$'\n'"|---|---:|---:|---:|---:|"$'\n'"$(pages "$out")"$'\n'
    raw+="$backend $line"$'\n'
  done
done

result="bench/results/$(date +%F)-applications.md"
cat > "$result" <<MD
# Applications: the whole journey ($(date +%F))

\`bench/run applications\` on $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1),
$(uname -m)), at $(git rev-parse --short HEAD). $citizens virtual citizens (a thread and a
keep-alive HTTP connection each, cookies kept, every page's CSRF token used) apply again and again
for $seconds s per run, on loopback; client, server, clamd and database share the two cores. One
journey: the start page of a test online service (three form pages: name, address, dogs; one
document rule; 5 € per dog; guests welcome), then

- **guest**: the guest page, the guest form POST, the mail with the link (the platform's job
  worker sends it over SMTP to a sink in the bench; the wait is the step "the mail with the link
  arrives", not a page), the link (303), a new browser and client address for every journey;
- **login**: each citizen signs in once before the run (argon2 is deliberately slow: not
  measured) and keeps that session for all its journeys, which begin with the start POST;

then the task list, each form page GET and POST, the documents page, a 200 KB PDF upload
(multipart, type checked by content, scanned by a real clamd), the task list, "bezahlen", the
payment link (303), the payer page, invoice POST, back to the Vorhaben, the check page, submit,
the confirmation and the answers' PDF. The platform runs in process (\`mvsp serve\`'s
settings: 64 HTTP threads, pool of 8 connections, $workers job workers, log level warn). After
the run the bench waits until the job workers have handed every submitted application over to
cases ("drain"); "with hand-over" counts that time too. Every journey opened one Vorgang
(checked). The PostgreSQL is the test server of \`scripts/test-postgres\` (fsync off), so its
figures are an upper bound.

Goal of the issue: 150 complete applications per second, every page's p99 under 50 ms.

| database | variant | journeys per second | journeys | failed | drain s | with hand-over per second | Vorgänge | worst page p99 ms |
|---|---|---:|---:|---:|---:|---:|---:|---:|
$rows
## Pages (p99 over 50 ms in bold)
$details
Raw lines:

\`\`\`
$raw\`\`\`
MD
echo "wrote $result"
