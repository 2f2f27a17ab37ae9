#!/usr/bin/env bash
# Many concurrent slow streams through the gateway:
#   slow_streams (N connections, one SSE stream each) -> llmpool serve -> llmpool mock (slow)
# The mock paces every stream (--tokens-per-second), so with the default 20-word prompt a stream
# lasts about 24 s and all N are open at once after the ramp (N / ramp seconds).
# Samples the gateway's RSS (VmRSS, VmHWM) and descriptors idle, every second during the run
# (the plateau is the largest sample) and at the end; asks the mock what it saw (/admin/stats).
#
# Usage: bench/slow_streams_bench.sh PATH/TO/llmpool PATH/TO/slow_streams [streams=1000]
#          [pool_limit=streams]
# pool_limit caps pool.max_concurrent_requests and the upstream connections: streams beyond it
# wait in the pool's queue (held by the gateway, not yet proxied) until a slot frees. That is how
# more streams than the descriptor limit allows (two per proxied stream) can be held at once.
# Environment: RAMP (connections/s, default 1000), WORDS (default 20), TPS (mock chunks per
# second per stream, default 1), LIMIT_S (client time limit, default 90).
# Not a test: numbers go to docs/benchmarks.md ("Slow streams"). Bounded by LIMIT_S and timeout;
# every process started here is stopped on exit.
set -euo pipefail

bin=${1:?usage: $0 PATH/TO/llmpool PATH/TO/slow_streams [streams] [pool_limit]}
client=${2:?usage: $0 PATH/TO/llmpool PATH/TO/slow_streams [streams] [pool_limit]}
streams=${3:-1000}
pool_limit=${4:-$streams}
ramp=${RAMP:-1000}
words=${WORDS:-20}
tps=${TPS:-1}
limit_s=${LIMIT_S:-90}

# shellcheck source=bench/processes.sh
source "$(dirname "$0")/processes.sh"

start mock "$bin" mock --listen 127.0.0.1:0 --tokens-per-second "$tps" \
  --max-connections $((streams + 100))
mock_port=$(head -1 "$out/mock.port")

cat >"$out/gateway.yaml" <<YAML
pool:
  max_concurrent_requests: $pool_limit
  max_queue: $streams
  acquire_timeout: 120s
  request_timeout: 120s
  max_connections_per_provider: $pool_limit
  health_checks: false
  retry: {max_attempts: 1}
  io_threads: ${GATEWAY_IO_THREADS:-0}
providers:
  - {name: mock, kind: openai, base_url: "http://127.0.0.1:$mock_port/v1"}
models:
  mock-model:
    - {provider: mock, model: mock-model}
gateway:
  listen: "127.0.0.1:0"
  log_level: warn
  threads: ${GATEWAY_THREADS:-0}
  max_connections: $((streams + 100))
  read_timeout: 120s
YAML
start gw "$bin" serve --config "$out/gateway.yaml"
gw_port=$(head -1 "$out/gw.port")

mib() { awk -v k="$1" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$gw_pid/status"; }
fds() { find "/proc/$gw_pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
sleep 1
idle_rss=$(mib VmRSS)
idle_fds=$(fds)

# Sampler: one line per second (RSS KiB, descriptors) while the client runs.
(
  while kill -0 "$gw_pid" 2>/dev/null; do
    echo "$(awk '$1 == "VmRSS:" {print $2}' "/proc/$gw_pid/status") $(fds)"
    sleep 1
  done
) >"$out/samples" 2>/dev/null &
pids+=($!)

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "streams $streams, pool limit $pool_limit, ramp $ramp/s, $words words at $tps chunks/s"
status=0
timeout $((limit_s + 20)) "$client" --port "$gw_port" --streams "$streams" --ramp "$ramp" \
  --words "$words" --seconds "$limit_s" 2>"$out/progress" || status=$?
sleep 1
end_rss=$(mib VmRSS)
hwm=$(mib VmHWM)
end_fds=$(fds)
plateau_kb=$(sort -n "$out/samples" | tail -1 | cut -d" " -f1)
max_fds=$(awk '$2 > m {m = $2} END {print m + 0}' "$out/samples")
echo
echo "| gateway | RSS MiB | descriptors |"
echo "|---|---:|---:|"
echo "| idle (before) | $idle_rss | $idle_fds |"
echo "| plateau (largest 1 s sample) | $(awk -v k="$plateau_kb" 'BEGIN {printf "%.1f", k / 1024}') | $max_fds (largest sample) |"
echo "| end (streams closed) | $end_rss | $end_fds |"
echo "| peak (VmHWM) | $hwm | |"
echo
echo "mock: $(curl -s --max-time 5 "http://127.0.0.1:$mock_port/admin/stats")"
echo "gateway process alive at end: $(kill -0 "$gw_pid" 2>/dev/null && echo yes || echo NO)"
if grep -qiE 'error|fail|open-file' "$out/gw.log"; then
  echo "gateway log (warnings and errors, first 5 distinct, remote port dropped):"
  grep -iE 'error|fail|open-file' "$out/gw.log" | sed -E 's/ts=[^ ]+ //; s/ (duration_ms|remote)=[^ ]+//g' |
    sort | uniq -c | sort -rn | head -5
fi
echo "client progress (last 3 lines):"
tail -3 "$out/progress"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
