#!/usr/bin/env bash
# Load test of the TapPass gateway with wrk, every target on 127.0.0.1, every run bounded in time.
#
#   bench/load.sh                  # full run (~5 minutes after the build)
#   DURATION=5s bench/load.sh      # shorter runs (WARMUP=20s and PROXY_WARMUP=10s before them, not reported)
#   SKIP_BUILD=1 bench/load.sh     # reuse artifacts/load-server
#
# Part 1 (local model): TapPass.Server (Release) with the offline local model, the full pipeline (every detector,
#   pii=mask, secrets=redact), a SQLite audit log (group commit, fsync) and rate limiting off, driven by wrk at
#   CONCURRENCY connections non-streaming and STREAM_CONCURRENCY streaming: req/s, latency p50/p99, errors, and the
#   server's peak memory (VmHWM).
# Part 2 (overhead): a mock OpenAI-compatible upstream (bench/mock-upstream.mjs) that answers at once; wrk against
#   the mock directly, through TapPass (TapPass:Provider:Kind=openai) and through the Portkey OSS gateway 1.15.2
#   (bench/portkey, npm ci from its pinned lockfile), in the same run. Added latency = through-gateway minus direct.
#   If Portkey cannot be installed or started the script says so and reports TapPass alone.
#   Every TapPass row uses the durable default (an fsync per audit commit before the answer is sent). One extra row,
#   labelled as such, measures c=1 with the opt-in TAPPASS_AUDIT__DURABILITY=normal (no fsync per commit) for comparison
#   (AUDIT_NORMAL_ROW=0 skips it).
#
# Output: a summary table on stdout and in bench/results/load-<timestamp>.txt, wrk's raw output next to it.
# Needs: dotnet, node/npm, curl, wrk (installed with `apt-get install -y wrk` when missing and running as root).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
DURATION="${DURATION:-10s}"
CONCURRENCY="${CONCURRENCY:-16 64 256}"
STREAM_CONCURRENCY="${STREAM_CONCURRENCY:-16 64}"
OVERHEAD_CONCURRENCY="${OVERHEAD_CONCURRENCY:-1 64}"
OVERHEAD_STREAM_CONCURRENCY="${OVERHEAD_STREAM_CONCURRENCY:-16}"
WRK_THREADS="${WRK_THREADS:-2}"
WARMUP="${WARMUP:-20s}"        # before the local-model runs: lets tiered JIT reach optimised code
PROXY_WARMUP="${PROXY_WARMUP:-10s}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="$root/bench/results"
raw="$results/load-$stamp"
summary="$results/load-$stamp.txt"
work="$(mktemp -d /tmp/tappass-load.XXXXXX)"
mkdir -p "$raw"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "$*" | tee -a "$summary"; }

# ---- tools --------------------------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "load.sh: installing wrk (Debian package)" >&2
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
  fi
fi
command -v wrk >/dev/null || { echo "load.sh: wrk is required (apt-get install -y wrk)" >&2; exit 2; }
for tool in dotnet node curl; do
  command -v "$tool" >/dev/null || { echo "load.sh: $tool is required" >&2; exit 2; }
done

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

wait_http() { # url, seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    curl -fs -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- build --------------------------------------------------------------------------------------------------------
server_dir="$root/artifacts/load-server"
if [[ -z "${SKIP_BUILD:-}" || ! -x "$server_dir/TapPass.Server" ]]; then
  echo "load.sh: building TapPass.Server (Release)" >&2
  dotnet build src/TapPass.Server/TapPass.Server.csproj -c Release -nologo -v:q -o "$server_dir" >&2
fi
server="$server_dir/TapPass.Server"

# An agent key configured by hash, as in production.
keygen="$("$server" keygen)"
key="$(awk '/^key:/ {print $2}' <<<"$keygen")"
key_sha="$(awk '/^key_sha256:/ {print $2}' <<<"$keygen")"

start_tappass() { # name, port, extra env...
  local name="$1" port="$2"
  shift 2
  mkdir -p "$work/$name"
  env TAPPASS_GATEWAY__KEYS__0__KEYSHA256="$key_sha" TAPPASS_GATEWAY__KEYS__0__AGENTID=load-agent \
    TAPPASS_GATEWAY__KEYS__0__ORG=bench TAPPASS_GATEWAY__RATELIMITPERMINUTE=0 \
    TAPPASS_AUDIT__PATH="$work/$name/audit.db" Logging__LogLevel__Default=Warning "$@" \
    "$server" serve --urls "http://127.0.0.1:$port" >"$raw/$name.server.log" 2>&1 &
  pids+=($!)
  echo $! >"$work/$name.pid"
  wait_http "http://127.0.0.1:$port/health" 60 || { echo "load.sh: $name did not start (see $raw/$name.server.log)" >&2; exit 1; }
}

open_session() { # port
  curl -fs "http://127.0.0.1:$1/v1/sessions" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{}' |
    sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p'
}

prompt='Please summarise the attached ticket from ava.dumont@ostara.be and draft a short, polite reply for the support team.'

# wrk script: POST a chat body; per-thread headers (a session per wrk thread) come from setup().
write_lua() { # file, stream(true|false), kind(tappass|portkey|direct), port, upstream_port, session...
  local file="$1" stream="$2" kind="$3" upstream="$5"
  shift 5
  local sessions="" s
  for s in "$@"; do sessions+="\"$s\","; done
  cat >"$file" <<EOF
local sessions = { $sessions }
local counter = 0
function setup(thread)
  counter = counter + 1
  if #sessions > 0 then thread:set("session", sessions[(counter - 1) % #sessions + 1]) end
end
function init(args)
  if session then wrk.headers["X-TapPass-Session-Id"] = session end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"gpt-4o-mini","stream":$stream,"messages":[{"role":"user","content":"$prompt"}]}'
EOF
  case "$kind" in
    tappass) printf 'wrk.headers["Authorization"] = "Bearer %s"\nwrk.headers["X-TapPass-Flags"] = "pii=mask"\n' "$key" >>"$file" ;;
    portkey) printf 'wrk.headers["Authorization"] = "Bearer sk-mock"\nwrk.headers["x-portkey-provider"] = "openai"\nwrk.headers["x-portkey-custom-host"] = "http://127.0.0.1:%s/v1"\n' "$upstream" >>"$file" ;;
    direct) printf 'wrk.headers["Authorization"] = "Bearer sk-mock"\n' >>"$file" ;;
  esac
}

# Runs wrk; prints "rps p50_ms p99_ms errors" (errors = non-2xx + socket errors).
run_wrk() { # label, lua, url, connections
  local label="$1" lua="$2" url="$3" c="$4" t="$WRK_THREADS" out
  ((c < t)) && t="$c"
  out="$raw/$label.txt"
  wrk -t"$t" -c"$c" -d"$DURATION" --timeout 10s --latency -s "$lua" "$url" >"$out" 2>&1 || true
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { errors += $NF }
    /Socket errors/ { for (i = 4; i <= NF; i += 2) { gsub(",", "", $i); errors += $i } }
    END { printf "%.0f %.3f %.3f %d\n", rps, p50, p99, errors }' "$out"
}

row() { printf '%-34s %6s %10s %10s %10s %8s\n' "$@" | tee -a "$summary"; }

# ---- header ------------------------------------------------------------------------------------------------------
{
  echo "TapPass load test, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wrk $WRK_THREADS threads, $DURATION per run after warm-ups of $WARMUP (local) and $PROXY_WARMUP (proxies); raw output in ${raw#"$root"/}"
} | tee "$summary"

# ---- part 1: local model -----------------------------------------------------------------------------------------
port="$(free_port)"
start_tappass local "$port"
url="http://127.0.0.1:$port/v1/chat/completions"
s1="$(open_session "$port")"
s2="$(open_session "$port")"
[[ -n "$s1" && -n "$s2" ]] || { echo "load.sh: could not open sessions" >&2; exit 1; }
write_lua "$work/local.lua" false tappass "$port" 0 "$s1" "$s2"
write_lua "$work/local-stream.lua" true tappass "$port" 0 "$s1" "$s2"
# Warm-up (tiered JIT, connection pools), not reported.
DURATION="$WARMUP" run_wrk local-warmup "$work/local.lua" "$url" 16 >/dev/null

say ""
say "1. TapPass, local model, full pipeline, SQLite audit (durable), $DURATION per run"
row "run" "conns" "req/s" "p50 ms" "p99 ms" "errors"
for c in $CONCURRENCY; do
  read -r rps p50 p99 err < <(run_wrk "local-c$c" "$work/local.lua" "$url" "$c")
  row "non-streaming" "$c" "$rps" "$p50" "$p99" "$err"
done
for c in $STREAM_CONCURRENCY; do
  read -r rps p50 p99 err < <(run_wrk "local-stream-c$c" "$work/local-stream.lua" "$url" "$c")
  row "streaming (whole stream)" "$c" "$rps" "$p50" "$p99" "$err"
done
local_peak="$(peak_kb "$(cat "$work/local.pid")")"
say "peak memory (VmHWM) of the TapPass server: $((local_peak / 1024)) MB"
kill "$(cat "$work/local.pid")" 2>/dev/null || true
# Part 1 leaves hundreds of MB of audit database behind; drop it and let write-back finish so that part 2's fsyncs
# (one per audited request) do not queue behind it.
wait "$(cat "$work/local.pid")" 2>/dev/null || true
rm -rf "$work/local"
sync

# ---- part 2: overhead against an instant upstream ----------------------------------------------------------------
mock_port="$(free_port)"
node "$root/bench/mock-upstream.mjs" "$mock_port" >"$raw/mock.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$mock_port/v1/models" 20 || { echo "load.sh: mock upstream did not start" >&2; exit 1; }

tp_port="$(free_port)"
start_tappass proxy "$tp_port" TAPPASS_PROVIDER__KIND=openai TAPPASS_PROVIDER__BASEURL="http://127.0.0.1:$mock_port/v1" TAPPASS_PROVIDER__APIKEY=sk-mock
p1="$(open_session "$tp_port")"
p2="$(open_session "$tp_port")"
write_lua "$work/tp.lua" false tappass "$tp_port" "$mock_port" "$p1" "$p2"
write_lua "$work/tp-stream.lua" true tappass "$tp_port" "$mock_port" "$p1" "$p2"
write_lua "$work/direct.lua" false direct 0 "$mock_port"
write_lua "$work/direct-stream.lua" true direct 0 "$mock_port"

portkey=""
pk_dir="$root/bench/portkey"
pk_port="$(free_port)"
if [[ ! -d "$pk_dir/node_modules/@portkey-ai/gateway" ]]; then
  (cd "$pk_dir" && npm ci --no-audit --no-fund --ignore-scripts >"$raw/portkey-install.log" 2>&1) || echo "load.sh: Portkey could not be installed (npm ci in bench/portkey failed, see $raw/portkey-install.log)" | tee -a "$summary" >&2
fi
if [[ -f "$pk_dir/node_modules/@portkey-ai/gateway/build/start-server.js" ]]; then
  (cd "$pk_dir" && exec node --import ./loopback.mjs node_modules/@portkey-ai/gateway/build/start-server.js --port="$pk_port" --headless >"$raw/portkey.log" 2>&1) &
  pids+=($!)
  echo $! >"$work/portkey.pid"
  if wait_http "http://127.0.0.1:$pk_port/" 30 &&
    curl -fs "http://127.0.0.1:$pk_port/v1/chat/completions" -H 'Content-Type: application/json' -H 'Authorization: Bearer sk-mock' \
      -H 'x-portkey-provider: openai' -H "x-portkey-custom-host: http://127.0.0.1:$mock_port/v1" \
      -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}' | grep -q '^data: {'; then
    portkey=yes
    write_lua "$work/pk.lua" false portkey 0 "$mock_port"
    write_lua "$work/pk-stream.lua" true portkey 0 "$mock_port"
  else
    say "Portkey: NOT MEASURED (it did not start or did not answer a streamed chat; see ${raw#"$root"/}/portkey.log)"
  fi
else
  say "Portkey: NOT MEASURED (not installed)"
fi

mock_url="http://127.0.0.1:$mock_port/v1/chat/completions"
tp_url="http://127.0.0.1:$tp_port/v1/chat/completions"
pk_url="http://127.0.0.1:$pk_port/v1/chat/completions"
DURATION="$PROXY_WARMUP" run_wrk proxy-warmup "$work/tp.lua" "$tp_url" 16 >/dev/null
[[ -n "$portkey" ]] && DURATION="$PROXY_WARMUP" run_wrk portkey-warmup "$work/pk.lua" "$pk_url" 16 >/dev/null

say ""
say "2. Added latency and throughput against an instant mock upstream (same run)"
row "run" "conns" "req/s" "p50 ms" "p99 ms" "errors"
declare -A R
measure() { # key, label, lua, url, c
  local rps p50 p99 err
  read -r rps p50 p99 err < <(run_wrk "$2-c$5" "$3" "$4" "$5")
  R["$1.rps"]="$rps"
  R["$1.p50"]="$p50"
  R["$1.p99"]="$p99"
  row "$2" "$5" "$rps" "$p50" "$p99" "$err"
}
for c in $OVERHEAD_CONCURRENCY; do
  measure "direct.$c" direct "$work/direct.lua" "$mock_url" "$c"
  measure "tappass.$c" tappass "$work/tp.lua" "$tp_url" "$c"
  [[ -n "$portkey" ]] && measure "portkey.$c" portkey "$work/pk.lua" "$pk_url" "$c"
done
for c in $OVERHEAD_STREAM_CONCURRENCY; do
  measure "sdirect.$c" "direct streaming" "$work/direct-stream.lua" "$mock_url" "$c"
  measure "stappass.$c" "tappass streaming" "$work/tp-stream.lua" "$tp_url" "$c"
  [[ -n "$portkey" ]] && measure "sportkey.$c" "portkey streaming" "$work/pk-stream.lua" "$pk_url" "$c"
done
proxy_peak="$(peak_kb "$(cat "$work/proxy.pid")")"

# Extra row, not the default configuration: audit durability=normal (opt-in), c=1.
if [[ "${AUDIT_NORMAL_ROW:-1}" != 0 ]]; then
  tpn_port="$(free_port)"
  start_tappass proxy-normal "$tpn_port" TAPPASS_PROVIDER__KIND=openai TAPPASS_PROVIDER__BASEURL="http://127.0.0.1:$mock_port/v1" TAPPASS_PROVIDER__APIKEY=sk-mock TAPPASS_AUDIT__DURABILITY=normal
  n1="$(open_session "$tpn_port")"
  n2="$(open_session "$tpn_port")"
  write_lua "$work/tpn.lua" false tappass "$tpn_port" "$mock_port" "$n1" "$n2"
  tpn_url="http://127.0.0.1:$tpn_port/v1/chat/completions"
  DURATION="$PROXY_WARMUP" run_wrk proxy-normal-warmup "$work/tpn.lua" "$tpn_url" 16 >/dev/null
  measure "tappass_audit_normal.1" "tappass audit=normal (opt-in)" "$work/tpn.lua" "$tpn_url" 1
  kill "$(cat "$work/proxy-normal.pid")" 2>/dev/null || true
fi
pk_peak=0
[[ -n "$portkey" ]] && pk_peak="$(peak_kb "$(cat "$work/portkey.pid")")"

say ""
say "Added latency (gateway minus direct, ms) and throughput ratios"
printf '%-34s %6s %12s %12s %14s\n' "gateway" "conns" "+p50 ms" "+p99 ms" "req/s vs direct" | tee -a "$summary"
overhead() { # prefix(''|s), gateway, c
  local g="$1$2.$3" d="$1direct.$3"
  awk -v gp50="${R[$g.p50]}" -v dp50="${R[$d.p50]}" -v gp99="${R[$g.p99]}" -v dp99="${R[$d.p99]}" -v grps="${R[$g.rps]}" -v drps="${R[$d.rps]}" -v name="$2${1:+ streaming}" -v c="$3" \
    'BEGIN { printf "%-34s %6s %12.3f %12.3f %14.2f\n", name, c, gp50 - dp50, gp99 - dp99, (drps > 0 ? grps / drps : 0) }' | tee -a "$summary"
}
for c in $OVERHEAD_CONCURRENCY; do
  overhead "" tappass "$c"
  [[ -n "$portkey" ]] && overhead "" portkey "$c"
done
[[ "${AUDIT_NORMAL_ROW:-1}" != 0 ]] && overhead "" tappass_audit_normal 1
for c in $OVERHEAD_STREAM_CONCURRENCY; do
  overhead s tappass "$c"
  [[ -n "$portkey" ]] && overhead s portkey "$c"
done
if [[ -n "$portkey" ]]; then
  say ""
  say "TapPass / Portkey (same run)"
  for c in $OVERHEAD_CONCURRENCY; do
    awk -v t="${R[tappass.$c.rps]}" -v p="${R[portkey.$c.rps]}" -v tp="${R[tappass.$c.p50]}" -v pp="${R[portkey.$c.p50]}" -v dp="${R[direct.$c.p50]}" -v c="$c" \
      'BEGIN { printf "  c=%s non-streaming: throughput %.2fx, added p50 latency %.3f ms vs %.3f ms\n", c, (p > 0 ? t / p : 0), tp - dp, pp - dp }' | tee -a "$summary"
  done
  for c in $OVERHEAD_STREAM_CONCURRENCY; do
    awk -v t="${R[stappass.$c.rps]}" -v p="${R[sportkey.$c.rps]}" -v c="$c" \
      'BEGIN { printf "  c=%s streaming: throughput %.2fx\n", c, (p > 0 ? t / p : 0) }' | tee -a "$summary"
  done
fi
say "peak memory (VmHWM): TapPass proxy $((proxy_peak / 1024)) MB$([[ -n "$portkey" ]] && echo ", Portkey $((pk_peak / 1024)) MB")"
say ""
say "summary written to ${summary#"$root"/}"
