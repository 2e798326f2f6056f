#!/usr/bin/env bash
# Pages rendered per second on one thread (bench/render_bench.cpp): the error page, the
# login form and a finder page with every component's templates and texts loaded.
# Writes bench/results/<date>-render.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-3}
cmake --build build --target mvsp_bench_render > /dev/null
table=$(build/bench/mvsp_bench_render "$seconds")
out=bench/results/$(date +%F)-render.md
{
  echo "# Page rendering, $(date +%F)"
  echo
  echo "One thread, $seconds s per page, $(nproc) cores, $(uname -m); \`bench/render.sh\`."
  echo
  echo '```'
  echo "$table"
  echo '```'
} > "$out"
echo "$table"
echo "written to $out"
