#!/usr/bin/env bash
# Forms: the PDF of a filled two-page application side by side with WeasyPrint (the same
# content, both tagged, in one run), checking a posted page of 100 questions, and a form
# page of the preview under wrk. Writes bench/results/<date>-forms.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-5}
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
work=$(mktemp -d /tmp/mvsp-bench-forms.XXXXXX)
port=18292
args=(--data-dir "$work/var" --database "sqlite:$work/var/mvsp.db")
cleanup() {
  [ -n "${mvsp_pid:-}" ] && kill "$mvsp_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cmake --build build --target mvsp mvsp_bench_forms > /dev/null
mvsp_pdf=$(build/bench/mvsp_bench_forms pdf "$seconds" --html "$work/application.html")
weasy_pdf=$(bench/weasyprint_pdf.py "$work/application.html" "$seconds" "$work/weasyprint.pdf")
validate=$(build/bench/mvsp_bench_forms validate "$seconds")
mvsp_rate=$(sed -E 's/.*per_second=([0-9.]+).*/\1/' <<<"$mvsp_pdf")
weasy_rate=$(sed -E 's/.*per_second=([0-9.]+).*/\1/' <<<"$weasy_pdf")
ratio=$(awk -v a="$mvsp_rate" -v b="$weasy_rate" 'BEGIN { printf "%.1f", a / b }')
# the same PDFs, for their page counts and tags
build/bench/mvsp_bench_forms pdf 0.01 > /dev/null
pages() { pdfinfo "$1" | awk '/^Pages:/ {print $2}'; }
tagged() { pdfinfo "$1" | awk '/^Tagged:/ {print $2}'; }

"build/mvsp" demo "${args[@]}" > /dev/null 2>&1
"build/mvsp" serve --listen 127.0.0.1:$port "${args[@]}" > "$work/mvsp.out" 2> "$work/mvsp.log" &
mvsp_pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 300); do curl -fs "$base/readyz" > /dev/null 2>&1 && break; sleep 0.1; done
# one visitor's session (wrk keeps no cookies): the first page of the Hundesteuer form
page="$base/formulare/hundesteuer-anmelden/vorschau/seiten/wohnort"
cookie=$(curl -s -D - -o /dev/null "$page" | awk -F'[: ;]+' 'tolower($1) == "set-cookie" {print $2 "=" $3; exit}')
wrk -t"$threads" -c"$connections" -d"$duration" --latency -H "Cookie: $cookie" "$page" > "$work/wrk.txt"
page_rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
page_p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
page_p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
errors=$(awk '/Non-2xx/ {print $5}' "$work/wrk.txt")

out=bench/results/$(date +%F)-forms.md
cat > "$out" <<MD
# Forms: PDF, validation, a form page ($(date +%F))

- machine: $(nproc) cores, $(uname -r); \`bench/forms.sh\`, $seconds s per measurement
- PDF: the Hundesteuer application with three dogs (every page of the form answered), as
  mvsp writes it (cairo, pango, qpdf; PDF/UA-1) and as WeasyPrint $(/usr/bin/python3 -c 'import weasyprint; print(weasyprint.__version__)')
  writes the same content from HTML (the same headings, facts and tables, DejaVu Sans,
  A4, 2 cm margins; \`variant='pdf/ua-1'\`, tagged), each in one process on one thread

## PDF of the application

| writer | PDFs/s | ms per PDF | pages | tagged |
| --- | ---: | ---: | ---: | --- |
| mvsp | $mvsp_rate | $(sed -E 's/.*ms_per_pdf=([0-9.]+).*/\1/' <<<"$mvsp_pdf") | 2 | yes |
| WeasyPrint | $weasy_rate | $(sed -E 's/.*ms_per_pdf=([0-9.]+).*/\1/' <<<"$weasy_pdf") | $(pages "$work/weasyprint.pdf") | $(tagged "$work/weasyprint.pdf") |

mvsp writes **$ratio ×** as many PDFs of the application per second as WeasyPrint.

\`\`\`
mvsp        $mvsp_pdf
WeasyPrint  $weasy_pdf
\`\`\`

## Checking a posted page of 100 questions (in process, one thread)

Texts with lengths and a pattern, numbers and money with bounds, dates with bounds relative
to today, e-mail, choices, yes/no, addresses, IBANs (checksum), 20 conditional questions
and a rule: \`Filling::submit\` reads and checks the page, \`Filling::finish\` the whole form.

\`\`\`
$validate
\`\`\`

## A form page under load (mvsp serve, SQLite)

\`wrk -t$threads -c$connections -d$duration\` on the same machine, one visitor's session:
\`GET /formulare/hundesteuer-anmelden/vorschau/seiten/wohnort\`.

| requests/s | p50 | p99 | non-2xx |
| ---: | ---: | ---: | ---: |
| $page_rps | $page_p50 | $page_p99 | ${errors:-0} |
MD
cat "$out"
echo "written to $out"
