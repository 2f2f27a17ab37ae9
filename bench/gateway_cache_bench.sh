#!/usr/bin/env bash
# What the reply cache and the Responses API cost or save, measured in one run against the same
# instant mock (wrk, 32 connections, the same request over and over):
#   wrk -> llmpool mock                                   (the floor: no hop)
#   wrk -> llmpool serve -> mock, /v1/chat/completions    (no cache: every request to the mock)
#   wrk -> llmpool serve -> mock, /v1/responses           (no cache: translated both ways)
#   wrk -> llmpool serve (gateway.cache on), chat         (every request after the first a hit)
# Prints a table row per path with the gateway's CPU per request (the mock's excluded), and the
# mock's request count, which shows the hits never reached it.
# Usage: bench/gateway_cache_bench.sh PATH/TO/llmpool [duration=8s]
# Not a test: numbers go to docs/benchmarks.md ("Reply cache and Responses API"). Every run is
# bounded by `duration` and `timeout`; every process started here is stopped on exit.
set -euo pipefail

bin=${1:?usage: $0 PATH/TO/llmpool [duration]}
duration=${2:-8s}
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

# shellcheck source=bench/processes.sh
source "$(dirname "$0")/processes.sh"

start mock "$bin" mock --listen 127.0.0.1:0
mock_port=$(head -1 "$out/mock.port")

gateway_config() {  # $1 extra gateway settings
  cat <<YAML
pool:
  max_concurrent_requests: 1024
  max_queue: 10000
  max_connections_per_provider: 300
  health_checks: false
  retry: {max_attempts: 1}
providers:
  - {name: mock, kind: openai, base_url: "http://127.0.0.1:$mock_port/v1"}
models:
  mock-model:
    - {provider: mock, model: mock-model}
gateway: {listen: "127.0.0.1:0", log_level: "warn"$1}
YAML
}
gateway_config "" >"$out/plain.yaml"
gateway_config ", cache: {ttl: 10m}" >"$out/cached.yaml"
start plain "$bin" serve --config "$out/plain.yaml"
start cached "$bin" serve --config "$out/cached.yaml"
plain_port=$(head -1 "$out/plain.port")
cached_port=$(head -1 "$out/cached.port")

mock_requests() { curl -s "http://127.0.0.1:$mock_port/admin/stats" | sed 's/.*"requests_total":\([0-9]*\).*/\1/'; }

# run LABEL PORT SCRIPT [SERVER_PID]: one bounded wrk run; prints a table row.
run() {
  local label=$1 port=$2 script=$3 pid=${4:-}
  local url="http://127.0.0.1:$port"
  timeout 60 wrk -t1 -c32 -d2s -s "$here/$script" "$url" >/dev/null  # warm-up
  local before=0 after=0 sent_before sent_after
  [ -n "$pid" ] && before=$(ticks "$pid")
  sent_before=$(mock_requests)
  timeout 120 wrk -t1 -c32 -d"$duration" --latency -s "$here/$script" "$url" >"$out/wrk.txt"
  [ -n "$pid" ] && after=$(ticks "$pid")
  sent_after=$(mock_requests)
  local rps p50 p99 n errs cpu
  wrk_stats "$out/wrk.txt"
  cpu=$(us_per_request $((after - before)) "$n")
  echo "| $label | $rps | $p50 | $p99 | $cpu | $n | $((sent_after - sent_before)) | ${errs:-none} |"
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| path | RPS | p50 | p99 | gateway CPU µs/req | requests | reached the mock | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
run "direct to the mock" "$mock_port" chat_post.lua
run "gateway, chat completions" "$plain_port" chat_post.lua "$plain_pid"
run "gateway, responses" "$plain_port" responses_post.lua "$plain_pid"
run "gateway with cache, chat completions (hits)" "$cached_port" chat_post.lua "$cached_pid"
