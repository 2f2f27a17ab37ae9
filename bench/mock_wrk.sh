#!/usr/bin/env bash
# Non-streaming throughput of `llmpool mock` under wrk (keep-alive, 64 connections).
# Usage: bench/mock_wrk.sh PATH/TO/llmpool [duration=10s] [connections=64] [mock threads=1]
# Builds nothing: pass the binary of an optimized build (RelWithDebInfo or Release).
set -euo pipefail

bin=${1:?usage: $0 PATH/TO/llmpool [duration] [connections] [threads]}
duration=${2:-10s}
connections=${3:-64}
threads=${4:-1}
here=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

out=$(mktemp -d)
trap 'kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; rm -rf "$out"' EXIT

"$bin" mock --listen 127.0.0.1:0 --threads "$threads" >"$out/port" 2>"$out/mock.log" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.05; done
port=$(head -1 "$out/port")
[ -n "$port" ] || { echo "mock did not start:" >&2; cat "$out/mock.log" >&2; exit 1; }

# Warm up (connections, allocator), then measure.
wrk -t1 -c"$connections" -d2s -s "$here/chat_post.lua" "http://127.0.0.1:$port" >/dev/null
# CPU time the mock spends per request (utime + stime from /proc), independent of what else
# runs on the machine.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$mock_pid/stat"; }
ticks_before=$(cpu_ticks)
wrk -t1 -c"$connections" -d"$duration" --latency -s "$here/chat_post.lua" \
  "http://127.0.0.1:$port" >"$out/wrk.txt"
ticks_after=$(cpu_ticks)

rps=$(awk '/^Requests\/sec:/ {print $2}' "$out/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$out/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$out/wrk.txt")
requests=$(awk '/requests in/ {print $1}' "$out/wrk.txt")
hz=$(getconf CLK_TCK)
cpu_us=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$hz" -v n="$requests" \
  'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')
load=$(cut -d' ' -f1 /proc/loadavg)
errors=$(awk '/Non-2xx|Socket errors/ {print}' "$out/wrk.txt")

echo "| target | wrk | mock threads | RPS | p50 | p99 | mock CPU µs/req | load avg |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
echo "| llmpool mock, POST /v1/chat/completions | -t1 -c$connections -d$duration | $threads | $rps | $p50 | $p99 | $cpu_us | $load |"
if [ -n "$errors" ]; then echo "errors: $errors"; fi
