#!/usr/bin/env bash
# ClientPool (`llmpool bench`) against a minimal raw libcurl multi client (bench/raw_curl_load.cc),
# side by side in one run, against `llmpool mock` over loopback:
#   (a) instant mock, 64 in flight: RPS ratio pool/raw, client CPU µs per request;
#   (b) 50 ms mock, 256 in flight: share of the Little's-law ceiling 256/0.05 s = 5,120 RPS,
#       p99 added vs raw;
#   (c) 50 ms mock, 1,024 in flight (pool io_threads 2 and 4): share of the 20,480 RPS ceiling.
# (a) and (b) run the pool with io_threads 1 (one event loop, like the raw client) and 2 (one per
# core of the 2-core machine the numbers in docs/benchmarks.md come from).
# Usage: bench/pool_bench.sh PATH/TO/llmpool [PATH/TO/raw_curl_load] [seconds=10]
#        POOL_BENCH_CASES="instant c256 c1024" (the default) picks the scenarios to run.
# Not a test: numbers go to docs/benchmarks.md ("## Pool"). Every run is bounded; every process
# started here is stopped on exit.
set -euo pipefail

bin=${1:?usage: $0 PATH/TO/llmpool [PATH/TO/raw_curl_load] [seconds]}
raw=${2:-$(dirname "$bin")/../../bench/raw_curl_load}
seconds=${3:-10}
[ -x "$raw" ] || { echo "raw_curl_load not found at $raw (build target raw_curl_load)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge 4096 ] || echo "warning: ulimit -n is $(ulimit -n); 1,024 connections need more" >&2

# shellcheck source=bench/processes.sh
source "$(dirname "$0")/processes.sh"

start fast "$bin" mock --listen 127.0.0.1:0 --threads 2
start slow "$bin" mock --listen 127.0.0.1:0 --threads 2 --latency 50ms
fast_port=$(head -1 "$out/fast.port")
slow_port=$(head -1 "$out/slow.port")

config() {  # $1 port, $2 concurrency, $3 io_threads
  cat <<YAML
pool:
  max_concurrent_requests: $2
  max_connections_per_provider: $2
  max_queue: 100000
  io_threads: $3
  health_checks: false
  retry: {max_attempts: 1}
providers:
  - {name: mock, kind: openai, base_url: "http://127.0.0.1:$1/v1"}
models:
  mock-model:
    - {provider: mock, model: mock-model}
YAML
}

# raw_row LABEL PORT C: prints "rps p50 p99 cpu failed" of a raw run.
raw_run() {
  timeout $((seconds * 3 + 30)) "$raw" --url "http://127.0.0.1:$1/v1/chat/completions" \
    --concurrency "$2" --seconds "$seconds" --warmup 2 >"$out/raw.txt"
  awk -F'[ =]' '
    /^requests=/ {for (i = 1; i < NF; i++) { if ($i == "rps") rps = $(i+1); if ($i == "failed") f = $(i+1) }}
    /^latency_ms/ {for (i = 1; i < NF; i++) { if ($i == "p50") p50 = $(i+1); if ($i == "p99") p99 = $(i+1) }}
    /^cpu_us_per_request=/ {cpu = $2}
    END {print rps, p50, p99, cpu, f}' "$out/raw.txt"
}

# pool_run PORT C IO_THREADS REQUESTS: prints "rps p50 p99 cpu failed hits misses".
pool_run() {
  config "$1" "$2" "$3" >"$out/pool.yaml"
  local warm=$(($4 / 5))
  timeout $((seconds * 6 + 60)) "$bin" bench --config "$out/pool.yaml" --model mock-model \
    --requests "$4" --warmup "$warm" --concurrency "$2" --max-seconds $((seconds * 5 + 30)) \
    --json >"$out/pool.json" || true
  python3 - "$out/pool.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency_ms"]
print("%.0f %.3f %.3f %.1f %d %d %d" % (r["throughput_rps"], l["p50"], l["p99"],
      r["cpu_us_per_request"], r["failed"], r["pool_hits"], r["pool_misses"]))
PY
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| scenario | client | RPS | share | p50 ms | p99 ms | client CPU µs/req | failed |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"

cases=" ${POOL_BENCH_CASES:-instant c256 c1024} "
# (a) instant, 64 in flight.
if [[ $cases == *" instant "* ]]; then
read -r r_rps r_p50 r_p99 r_cpu r_f < <(raw_run "$fast_port" 64)
echo "| instant, C=64 | raw curl multi | $r_rps | 1.00x raw | $r_p50 | $r_p99 | $r_cpu | $r_f |"
n=$(awk -v r="$r_rps" -v s="$seconds" 'BEGIN { n = int(r * s); print (n < 1000 ? 1000 : n) }')
# One event loop (what the raw client has) and two (one per core of this machine: the pool's
# own way to use more than one core, `pool.io_threads`).
for io in 1 2; do
  read -r p_rps p_p50 p_p99 p_cpu p_f p_h p_m < <(pool_run "$fast_port" 64 "$io" "$n")
  ratio=$(awk -v a="$p_rps" -v b="$r_rps" 'BEGIN { printf "%.2fx raw", a / b }')
  echo "| instant, C=64 | llmpool bench (io_threads $io) | $p_rps | $ratio | $p_p50 | $p_p99 | $p_cpu | $p_f |"
  echo "  (pool connections: $p_h reused, $p_m opened; load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
fi

# (b), (c): 50 ms, share of the Little's-law ceiling C / 0.05 s.
slow_case() {  # $1 C, then the io_threads values to run
  local c=$1 ceiling=$(($1 * 20))
  shift
  read -r r_rps r_p50 r_p99 r_cpu r_f < <(raw_run "$slow_port" "$c")
  local rs ps added io
  rs=$(awk -v a="$r_rps" -v b="$ceiling" 'BEGIN { printf "%.1f %%", 100 * a / b }')
  echo "| 50 ms, C=$c | raw curl multi | $r_rps | $rs | $r_p50 | $r_p99 | $r_cpu | $r_f |"
  for io in "$@"; do
    read -r p_rps p_p50 p_p99 p_cpu p_f p_h p_m < <(pool_run "$slow_port" "$c" "$io" $((ceiling * seconds)))
    ps=$(awk -v a="$p_rps" -v b="$ceiling" 'BEGIN { printf "%.1f %%", 100 * a / b }')
    added=$(awk -v a="$p_p99" -v b="$r_p99" 'BEGIN { printf "%+.2f", a - b }')
    echo "| 50 ms, C=$c | llmpool bench (io_threads $io) | $p_rps | $ps | $p_p50 | $p_p99 ($added vs raw) | $p_cpu | $p_f |"
    echo "  (pool connections: $p_h reused, $p_m opened; load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
}
if [[ $cases == *" c256 "* ]]; then slow_case 256 1 2; fi
if [[ $cases == *" c1024 "* ]]; then slow_case 1024 2 4; fi

echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
