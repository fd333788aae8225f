#!/usr/bin/env bash
# Quick added-latency check at concurrency 1 for one server build, against the same instant mock as bench/load.sh:
#
#   dotnet build src/TapPass.Server/TapPass.Server.csproj -c Release -o /tmp/srv-a
#   bench/c1-latency.sh /tmp/srv-a [rounds] [NAME=value ...]    # extra environment for the server
#
# Warms up 10 s, then alternates direct (mock) and through-TapPass runs of $D (default 5 s) with wrk -t1 -c1 and prints
# each round's p50/p99 and the difference. Run two builds alternately to compare them on a shared machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
srv="$1/TapPass.Server"
rounds="${2:-3}"
shift $(($# >= 2 ? 2 : 1))
D="${D:-5s}"
work="$(mktemp -d /tmp/tappass-c1.XXXXXX)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
wait_http() { for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }

keygen="$("$srv" keygen)"
key="$(awk '/^key:/ {print $2}' <<<"$keygen")"
key_sha="$(awk '/^key_sha256:/ {print $2}' <<<"$keygen")"
mock_port="$(free_port)"
node "$root/bench/mock-upstream.mjs" "$mock_port" >/dev/null 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$mock_port/v1/models"
port="$(free_port)"
env TAPPASS_GATEWAY__KEYS__0__KEYSHA256="$key_sha" TAPPASS_GATEWAY__KEYS__0__AGENTID=load-agent TAPPASS_GATEWAY__KEYS__0__ORG=bench \
  TAPPASS_GATEWAY__RATELIMITPERMINUTE=0 TAPPASS_AUDIT__PATH="$work/audit.db" Logging__LogLevel__Default=Warning \
  TAPPASS_PROVIDER__KIND=openai TAPPASS_PROVIDER__BASEURL="http://127.0.0.1:$mock_port/v1" TAPPASS_PROVIDER__APIKEY=sk-mock "$@" \
  "$srv" serve --urls "http://127.0.0.1:$port" >"$work/server.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/health" || { cat "$work/server.log" >&2; exit 1; }
session="$(curl -fs "http://127.0.0.1:$port/v1/sessions" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{}' |
  sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p')"
prompt='Please summarise the attached ticket from ava.dumont@ostara.be and draft a short, polite reply for the support team.'
body="{\"model\":\"gpt-4o-mini\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":\"$prompt\"}]}"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\nwrk.headers["Authorization"] = "Bearer %s"\nwrk.headers["X-TapPass-Flags"] = "pii=mask"\nwrk.headers["X-TapPass-Session-Id"] = "%s"\n' \
  "'$body'" "$key" "$session" >"$work/tappass.lua"
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\nwrk.headers["Authorization"] = "Bearer sk-mock"\n' "'$body'" >"$work/direct.lua"
run() { # duration, lua, url -> "p50_ms p99_ms"
  wrk -t1 -c1 -d"$1" --latency -s "$2" "$3" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } END { printf "%.3f %.3f\n", p50, p99 }'
}
run 10s "$work/tappass.lua" "http://127.0.0.1:$port/v1/chat/completions" >/dev/null
for _ in $(seq 1 "$rounds"); do
  read -r dp50 dp99 < <(run "$D" "$work/direct.lua" "http://127.0.0.1:$mock_port/v1/chat/completions")
  read -r tp50 tp99 < <(run "$D" "$work/tappass.lua" "http://127.0.0.1:$port/v1/chat/completions")
  awk -v a="$dp50" -v b="$dp99" -v c="$tp50" -v d="$tp99" \
    'BEGIN { printf "direct p50 %.3f p99 %.3f | tappass p50 %.3f p99 %.3f | added p50 %.3f p99 %.3f ms\n", a, b, c, d, c - a, d - b }'
done
