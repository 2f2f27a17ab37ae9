#!/usr/bin/env bash
# The gateway's proxy overhead, measured in one run against the same mocks:
#   wrk -> llmpool mock                      (the floor: no hop)
#   wrk -> HAProxy -> llmpool mock           (a plain keep-alive HTTP proxy hop)
#   wrk -> llmpool serve -> llmpool mock     (auth-less gateway, pool, codecs)
# Scenarios: instant mock at 32 connections (RPS, server CPU per request); 50 ms mock at 1
# connection (added p50) and 256 connections (~5,000 RPS: added p99, share of the 5,120 RPS
# ceiling); RSS of the gateway idle and after 256 connections; then, when the bench programs are
# built, the one-connection latency again with the three paths' requests interleaved
# (bench/latency_probe) and the latency at a fixed 5,000 RPS, open loop (bench/rate_load).
# Prints one table row per run, then the ratios against issue 5's targets (computed within the
# run, so they are less sensitive to the machine's load than the absolute numbers).
# Usage: bench/gateway_bench.sh PATH/TO/llmpool [duration=10s]
# Not a test: numbers go to docs/benchmarks.md ("## Gateway"). Every run is bounded by
# `duration` and `timeout`; every process started here is stopped on exit.
set -euo pipefail

bin=${1:?usage: $0 PATH/TO/llmpool [duration]}
duration=${2:-10s}
here=$(cd "$(dirname "$0")" && pwd)
for tool in wrk haproxy; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (apt-get install $tool)" >&2; exit 1; }
done

# shellcheck source=bench/processes.sh
source "$(dirname "$0")/processes.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start fast "$bin" mock --listen 127.0.0.1:0
start slow "$bin" mock --listen 127.0.0.1:0 --latency 50ms
fast_port=$(head -1 "$out/fast.port")
slow_port=$(head -1 "$out/slow.port")

gateway_config() {  # $1 mock port
  cat <<YAML
pool:
  max_concurrent_requests: 1024
  max_queue: 10000
  max_connections_per_provider: 300
  health_checks: false
  retry: {max_attempts: 1}
  io_threads: ${GATEWAY_IO_THREADS:-0}
providers:
  - {name: mock, kind: openai, base_url: "http://127.0.0.1:$1/v1"}
models:
  mock-model:
    - {provider: mock, model: mock-model}
gateway: {listen: "127.0.0.1:0", log_level: "warn", threads: ${GATEWAY_THREADS:-0}}
YAML
}
gateway_config "$fast_port" >"$out/gw_fast.yaml"
gateway_config "$slow_port" >"$out/gw_slow.yaml"
start gwfast "$bin" serve --config "$out/gw_fast.yaml"
start gwslow "$bin" serve --config "$out/gw_slow.yaml"
gwfast_port=$(head -1 "$out/gwfast.port")
gwslow_port=$(head -1 "$out/gwslow.port")
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
idle_rss=$(rss_kb "$gwslow_pid")

haproxy_config() {  # $1 listen port, $2 mock port
  sed -e "s/@LISTEN_PORT@/$1/" -e "s/@MOCK_PORT@/$2/" "$here/gateway_haproxy.cfg"
}
hafast_port=$(free_port)
haslow_port=$(free_port)
haproxy_config "$hafast_port" "$fast_port" >"$out/ha_fast.cfg"
haproxy_config "$haslow_port" "$slow_port" >"$out/ha_slow.cfg"
haproxy -f "$out/ha_fast.cfg" -db >"$out/ha_fast.log" 2>&1 & pids+=($!); hafast_pid=$!
haproxy -f "$out/ha_slow.cfg" -db >"$out/ha_slow.log" 2>&1 & pids+=($!); haslow_pid=$!
sleep 0.5

# run LABEL PORT CONNS [SERVER_PID...]: one bounded wrk run; prints a table row.
run() {
  local key=$1 label=$2 port=$3 conns=$4; shift 4
  local url="http://127.0.0.1:$port"
  timeout 60 wrk -t1 -c"$conns" -d2s -s "$here/chat_post.lua" "$url" >/dev/null  # warm-up
  local before=0 after=0 pid
  for pid in "$@"; do before=$((before + $(ticks "$pid"))); done
  timeout 120 wrk -t1 -c"$conns" -d"$duration" --latency -s "$here/chat_post.lua" "$url" \
    >"$out/wrk.txt"
  for pid in "$@"; do after=$((after + $(ticks "$pid"))); done
  local rps p50 p99 n errs cpu
  wrk_stats "$out/wrk.txt"
  cpu=$(us_per_request $((after - before)) "$n")
  echo "| $label | $conns | $rps | $p50 | $p99 | $cpu | ${errs:-none} |"
  echo "$key $rps $(to_ms "$p50") $(to_ms "$p99") $cpu" >>"$out/rows"
}

# wrk prints latencies as 646.00us, 1.16ms or 1.02s; the summary works in ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}
# field KEY COLUMN: a value recorded by run (2 rps, 3 p50 ms, 4 p99 ms, 5 CPU µs/req).
field() { awk -v k="$1" -v c="$2" '$1 == k {print $c}' "$out/rows"; }

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| path | conns | RPS | p50 | p99 | proxy CPU µs/req (excl. mock) | errors |"
echo "|---|---:|---:|---:|---:|---:|---|"
run fast_direct "instant mock: direct" "$fast_port" 32 "$fast_pid"
run fast_ha "instant mock: HAProxy" "$hafast_port" 32 "$hafast_pid"
run fast_gw "instant mock: llmpool serve" "$gwfast_port" 32 "$gwfast_pid"
run one_direct "50 ms mock: direct" "$slow_port" 1 "$slow_pid"
run one_ha "50 ms mock: HAProxy" "$haslow_port" 1 "$haslow_pid"
run one_gw "50 ms mock: llmpool serve" "$gwslow_port" 1 "$gwslow_pid"
run many_direct "50 ms mock: direct" "$slow_port" 256 "$slow_pid"
run many_ha "50 ms mock: HAProxy" "$haslow_port" 256 "$haslow_pid"
run many_gw "50 ms mock: llmpool serve" "$gwslow_port" 256 "$gwslow_pid"
echo
# Against the targets of issue 5 (same run, so the ratios are less sensitive to machine load).
awk -v gw="$(field fast_gw 2)" -v ha="$(field fast_ha 2)" -v cpu="$(field fast_gw 5)" \
  'BEGIN { printf "instant, 32 conns: gateway/HAProxy RPS %.2fx (target >= 0.8), gateway CPU %.1f us/req (target <= 40)\n", gw / ha, cpu }'
awk -v gw="$(field one_gw 3)" -v d="$(field one_direct 3)" -v ha="$(field one_ha 3)" \
  'BEGIN { printf "50 ms, 1 conn: added p50 %+.2f ms (HAProxy %+.2f; target <= 0.15)\n", gw - d, ha - d }'
awk -v gw="$(field many_gw 4)" -v d="$(field many_direct 4)" -v ha="$(field many_ha 4)" \
    -v rps="$(field many_gw 2)" -v drps="$(field many_direct 2)" -v harps="$(field many_ha 2)" \
  'BEGIN { printf "50 ms, 256 conns (closed loop): added p99 %+.2f ms (HAProxy %+.2f); %.1f %% of 5,120 RPS (direct %.1f %%, HAProxy %.1f %%; target >= 98)\n", gw - d, ha - d, rps / 51.2, drps / 51.2, harps / 51.2 }'
echo "gateway RSS: idle $((idle_rss / 1024)) MiB; peak after 256 connections $(( $(hwm_kb "$gwslow_pid") / 1024 )) MiB"
# One connection again, requests interleaved round by round between the three paths so all see
# the same machine noise (bench/latency_probe.cc; wrk's 1-connection p50 has 10 µs steps and moves
# by more than that between runs). Skipped when the probe was not built.
probe=${LATENCY_PROBE:-$(dirname "$bin")/../../bench/latency_probe}
if [ -x "$probe" ]; then
  echo
  echo "50 ms mock, 1 connection each, interleaved (latency_probe, ${PROBE_ROUNDS:-200} rounds):"
  timeout 300 "$probe" --target "llmpool serve=$gwslow_port" --target "HAProxy=$haslow_port" \
    --target "direct=$slow_port" --rounds "${PROBE_ROUNDS:-200}" --seconds 200
fi
# Latency at a fixed rate: requests due every 200 µs whatever the server does, counted from when
# they were due (bench/rate_load.cc). wrk's 256-connection p99 above is a closed loop's: replies
# that come in bunches are answered, and the next requests sent, in bunches, and the wait of the
# last in each bunch is in its p99.
rate_load=${RATE_LOAD:-$(dirname "$bin")/../../bench/rate_load}
if [ -x "$rate_load" ]; then
  echo
  echo "50 ms mock at 5,000 requests/s, open loop (rate_load, ${RATE_ROUNDS:-4} rounds):"
  timeout 300 "$rate_load" --target "llmpool serve=$gwslow_port" --target "HAProxy=$haslow_port" \
    --target "direct=$slow_port" --rate 5000 --rounds "${RATE_ROUNDS:-4}" --window 3 | tee "$out/rate.txt"
  echo
  awk -F'|' '$2 ~ /llmpool serve/ {gw = $11} $2 ~ /HAProxy/ {ha = $11}
    END { printf "50 ms, 5,000 RPS (open loop): added p99 %+.2f ms (HAProxy %+.2f; target <= 1)\n", gw / 1000, ha / 1000 }' "$out/rate.txt"
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
