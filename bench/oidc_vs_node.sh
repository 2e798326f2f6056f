#!/usr/bin/env bash
# Token endpoint (client credentials) and userinfo under wrk, mvsp beside node's
# oidc-provider configured the same way, and password logins per second per core.
# Writes bench/results/<date>-identity.md. MVSP_BIN names another build of mvsp to measure
# (to compare two builds under the same conditions).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
threads=${BENCH_THREADS:-2}
work=$(mktemp -d /tmp/mvsp-bench-oidc.XXXXXX)
mvsp_port=18281
node_port=18282
mvsp=${MVSP_BIN:-build/mvsp}
args=(--data-dir "$work/var" --database "sqlite:$work/var/mvsp.db")
cmake --build build --target mvsp_bench_login > /dev/null

cleanup() {
  [ -n "${mvsp_pid:-}" ] && kill "$mvsp_pid" 2>/dev/null || true
  [ -n "${node_pid:-}" ] && kill "$node_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# mvsp: a citizen, a machine client and a web client; a user access token by the code flow.
"$mvsp" user create --email erika.mustermann@example.org --password 'ein langes Passwort' \
  --name "Erika Mustermann" --verified "${args[@]}" > /dev/null 2>&1
machine=$("$mvsp" client create --name machine --grant client_credentials --scope notices:write "${args[@]}" 2>/dev/null)
web=$("$mvsp" client create --name web --redirect-uri https://rp.example/cb "${args[@]}" 2>/dev/null)
field() { sed -E "s/.*\"$1\":\"([^\"]+)\".*/\\1/" <<<"$2"; }
"$mvsp" serve --listen 127.0.0.1:$mvsp_port "${args[@]}" > "$work/mvsp.out" 2> "$work/mvsp.log" &
mvsp_pid=$!
base=http://127.0.0.1:$mvsp_port
for _ in $(seq 50); do curl -fs "$base/healthz" > /dev/null 2>&1 && break; sleep 0.1; done
jar=$work/cookies
csrf=$(curl -s -c "$jar" "$base/anmelden" | sed -nE 's/.*name="csrf_token" value="([^"]+)".*/\1/p' | head -n 1)
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "email=erika.mustermann@example.org" \
  --data-urlencode "password=ein langes Passwort" --data-urlencode "csrf_token=$csrf" "$base/anmelden"
location=$(curl -s -b "$jar" -o /dev/null -w '%{redirect_url}' \
  "$base/oidc/authorize?client_id=$(field client_id "$web")&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=code&scope=openid%20email&state=bench")
code=$(sed -nE 's/.*[?&]code=([^&]+).*/\1/p' <<<"$location")
mvsp_token=$(curl -s -u "$(field client_id "$web"):$(field client_secret "$web")" \
  -d grant_type=authorization_code -d "code=$code" --data-urlencode redirect_uri=https://rp.example/cb \
  "$base/api/v1/oidc/token" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

scripts/node bench/node-oidc-provider.mjs $node_port > "$work/node.out" 2> "$work/node.log" &
node_pid=$!
for _ in $(seq 100); do grep -q access_token "$work/node.out" 2>/dev/null && break; sleep 0.1; done
node_token=$(grep '^{' "$work/node.out" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

measure() {  # url, wrk options… → "requests/s p99 non2xx"
  local url=$1; shift
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$url" > "$work/wrk.txt"
  local rps p99 bad
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
  bad=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt"); bad=${bad:-0}
  echo "$rps $p99 $bad"
}

# Userinfo first: oidc-provider's in-memory adapter is an LRU cache, and the tokens the
# token-endpoint run creates would push the user's access token out of it.
read -r m_ui m_ui_p99 m_ui_bad < <(measure "$base/api/v1/oidc/userinfo" -H "Authorization: Bearer $mvsp_token")
read -r n_ui n_ui_p99 n_ui_bad < <(measure "http://127.0.0.1:$node_port/me" -H "Authorization: Bearer $node_token")
export SCOPE=notices:write
export BASIC=$(printf '%s:%s' "$(field client_id "$machine")" "$(field client_secret "$machine")" | base64 -w0)
read -r m_tok m_tok_p99 m_tok_bad < <(measure "$base/api/v1/oidc/token" -s bench/token.lua)
export BASIC=$(printf 'machine:machine-secret-0123456789' | base64 -w0)
read -r n_tok n_tok_p99 n_tok_bad < <(measure "http://127.0.0.1:$node_port/token" -s bench/token.lua)
logins=$(build/bench/mvsp_bench_login "${BENCH_LOGIN_SECONDS:-5}")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
out=bench/results/$(date +%F)-identity.md
cat > "$out" <<MD
# Identity: token endpoint and userinfo beside node oidc-provider; password logins

- date: $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)
- machine: $(nproc) cores, $(uname -r); load: \`wrk -t$threads -c$connections -d$duration\` on the same machine
- mvsp: \`build/mvsp serve\` with defaults, SQLite in WAL mode on disk (every token is a row; every
  request is logged); node: oidc-provider $(scripts/node -p "require('./node_modules/oidc-provider/package.json').version") on Node.js $(scripts/node -v), its in-memory adapter, one process
- both: opaque access tokens, client authentication \`client_secret_basic\`; userinfo is measured first
  (oidc-provider's in-memory adapter is an LRU cache that the token run would flush)

| request | server | requests/s | p99 | non-2xx |
| --- | --- | ---: | ---: | ---: |
| token endpoint, \`client_credentials\` | mvsp | $m_tok | $m_tok_p99 | $m_tok_bad |
| | oidc-provider | $n_tok | $n_tok_p99 | $n_tok_bad |
| userinfo (GET, bearer token) | mvsp | $m_ui | $m_ui_p99 | $m_ui_bad |
| | oidc-provider | $n_ui | $n_ui_p99 | $n_ui_bad |

**Ratio mvsp / oidc-provider:** token endpoint $(ratio "$m_tok" "$n_tok"), userinfo $(ratio "$m_ui" "$n_ui").

## Password logins (\`Identity::login\`, argon2id 19 MiB / 2 passes, with audit and throttle writes)

\`\`\`
$logins
\`\`\`
MD
cat "$out"
