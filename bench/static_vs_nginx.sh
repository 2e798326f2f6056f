#!/usr/bin/env bash
# The start page and static files from mvsp under wrk, beside nginx serving the same
# static files, on this machine; then the same with 1,000 idle keep-alive connections open
# beside the load. Writes bench/results/<date>-static-vs-nginx.md.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
work=$(mktemp -d /tmp/mvsp-bench.XXXXXX)
mvsp_port=18181
nginx_port=18182
static_dir=$PWD/build/static
chmod o+rx "$work"
ulimit -n "$(ulimit -Hn)"
holders=()

cleanup() {
  for p in "${holders[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${mvsp_pid:-}" ] && kill "$mvsp_pid" 2>/dev/null && wait "$mvsp_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

# Idle connections stay as long as nginx's (keepalive_timeout 75 s), so that the run with
# 1,000 of them open measures both servers with them.
printf '[server]\nkeep_alive_seconds = 75\n' > "$work/mvsp.toml"
build/mvsp serve --config "$work/mvsp.toml" --listen 127.0.0.1:$mvsp_port --data-dir "$work/var" \
  --database "sqlite:$work/var/mvsp.db" > "$work/mvsp.out" 2> "$work/mvsp.log" &
mvsp_pid=$!

cat > "$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
daemon on;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  etag on;
  keepalive_requests 100000;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  fastcgi_temp_path $work/nginx-fastcgi;
  uwsgi_temp_path $work/nginx-uwsgi;
  scgi_temp_path $work/nginx-scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    location /static/ { alias $static_dir/; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -e "$work/nginx-error.log"

for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$mvsp_port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

# Requests per second and p99 latency of one wrk run.
measure() {
  local url=$1
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$url" > "$work/wrk.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  echo "$rps $p99"
}

small=/static/css/mvsp.css
large=/static/kern/kern.min.css
read -r start_rps start_p99 < <(measure "http://127.0.0.1:$mvsp_port/")
read -r mvsp_small_rps mvsp_small_p99 < <(measure "http://127.0.0.1:$mvsp_port$small")
read -r nginx_small_rps nginx_small_p99 < <(measure "http://127.0.0.1:$nginx_port$small")
read -r mvsp_large_rps mvsp_large_p99 < <(measure "http://127.0.0.1:$mvsp_port$large")
read -r nginx_large_rps nginx_large_p99 < <(measure "http://127.0.0.1:$nginx_port$large")

# 1,000 idle keep-alive connections open on each server beside the load.
hold() {
  local fifo=$work/holder-$RANDOM
  mkfifo "$fifo"
  bench/hold_connections.py "$1" 1000 idle "$2" > "$fifo" 2>/dev/null &
  holders+=($!)
  local line
  read -r line < "$fifo"
  held=${line#ready }
}
hold "$mvsp_port" 0
mvsp_idle=$held
hold "$nginx_port" 1000
nginx_idle=$held
read -r idle_start_rps idle_start_p99 < <(measure "http://127.0.0.1:$mvsp_port/")
read -r idle_mvsp_small_rps idle_mvsp_small_p99 < <(measure "http://127.0.0.1:$mvsp_port$small")
read -r idle_nginx_small_rps idle_nginx_small_p99 < <(measure "http://127.0.0.1:$nginx_port$small")
read -r idle_mvsp_large_rps idle_mvsp_large_p99 < <(measure "http://127.0.0.1:$mvsp_port$large")
read -r idle_nginx_large_rps idle_nginx_large_p99 < <(measure "http://127.0.0.1:$nginx_port$large")
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$mvsp_pid/status")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
size_of() { stat -c %s "$static_dir${1#/static}"; }

out=bench/results/$(date +%F)-static-vs-nginx.md
cat > "$out" <<MD
# Start page and static files: mvsp beside nginx

- date: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)
- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)
- load: \`wrk -t$threads -c$connections -d$duration\` on the same machine (wrk shares the cores)
- mvsp: \`build/mvsp serve\` with defaults (64 handler threads, I/O threads one per core,
  SQLite) but \`keep_alive_seconds = 75\` as nginx; nginx $(nginx -v 2>&1 | sed 's/.*\///'), \`worker_processes auto\`, sendfile, access log off

| what | server | requests/s | p99 latency |
| --- | --- | ---: | ---: |
| start page \`/\` (template render, no session) | mvsp | $start_rps | $start_p99 |
| small static file \`$small\` ($(size_of $small) bytes) | mvsp | $mvsp_small_rps | $mvsp_small_p99 |
| | nginx | $nginx_small_rps | $nginx_small_p99 |
| large static file \`$large\` ($(size_of $large) bytes) | mvsp | $mvsp_large_rps | $mvsp_large_p99 |
| | nginx | $nginx_large_rps | $nginx_large_p99 |

**Ratio mvsp / nginx:** small file $(ratio "$mvsp_small_rps" "$nginx_small_rps"), large file $(ratio "$mvsp_large_rps" "$nginx_large_rps").

The same with 1,000 idle keep-alive connections open on each server beside the load
(\`bench/hold_connections.py\`; held: mvsp $mvsp_idle, nginx $nginx_idle):

| what | server | requests/s | p99 latency |
| --- | --- | ---: | ---: |
| start page \`/\` | mvsp | $idle_start_rps | $idle_start_p99 |
| small static file | mvsp | $idle_mvsp_small_rps | $idle_mvsp_small_p99 |
| | nginx | $idle_nginx_small_rps | $idle_nginx_small_p99 |
| large static file | mvsp | $idle_mvsp_large_rps | $idle_mvsp_large_p99 |
| | nginx | $idle_nginx_large_rps | $idle_nginx_large_p99 |

**Ratio mvsp / nginx with 1,000 idle:** small file $(ratio "$idle_mvsp_small_rps" "$idle_nginx_small_rps"), large file $(ratio "$idle_mvsp_large_rps" "$idle_nginx_large_rps").

wrk sends no Accept-Encoding, so both send the files as they are (no pre-compressed
variant).

Peak resident memory of mvsp during the run: $((rss_kb / 1024)) MiB.
MD
cat "$out"
