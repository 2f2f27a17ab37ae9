#!/usr/bin/env bash
# `llmpool run` throughput: N tasks (default 100,000) against `llmpool mock --latency 50ms` with
# --concurrency 512 and the SQLite state on. Reports wall time against the Little's-law bound
# (tasks x latency / concurrency), CPU seconds per 1,000 tasks and peak RSS of the runner
# (/usr/bin/time -v), the mock's CPU, and checks that the output has every custom_id once.
# Usage: bench/run_bench.sh PATH/TO/llmpool [tasks=100000] [concurrency=512] [latency_ms=50]
#        [mock threads=2]
# Builds nothing: pass the binary of an optimized build (RelWithDebInfo or Release).
set -euo pipefail

bin=${1:?usage: $0 PATH/TO/llmpool [tasks] [concurrency] [latency_ms] [mock_threads]}
tasks=${2:-100000}
concurrency=${3:-512}
latency_ms=${4:-50}
mock_threads=${5:-2}
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed (apt-get install time)" >&2; exit 1; }

out=$(mktemp -d)
mock_pid=
trap '[ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT

"$bin" mock --listen 127.0.0.1:0 --threads "$mock_threads" --latency "${latency_ms}ms" \
  >"$out/port" 2>"$out/mock.log" &
mock_pid=$!
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.05; done
port=$(head -1 "$out/port")
[ -n "$port" ] || { echo "mock did not start:" >&2; cat "$out/mock.log" >&2; exit 1; }

# The batch: short chat requests, priorities mixed, ~200 bytes a line.
awk -v n="$tasks" 'BEGIN {
  split("low normal high critical", p, " ");
  for (i = 0; i < n; i++)
    printf "{\"custom_id\":\"t-%d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"priority\":\"%s\",\"body\":{\"model\":\"m\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"benchmark prompt %d\"}]}}\n", i, p[i % 4 + 1], i
}' >"$out/in.jsonl"

cat >"$out/cfg.yaml" <<EOF
pool:
  max_concurrent_requests: $concurrency
  max_connections_per_provider: $concurrency
  max_queue: $tasks
  health_checks: false
providers:
  - {name: mock, kind: openai, base_url: "http://127.0.0.1:$port/v1"}
models:
  m:
    - {provider: mock, model: mock-model}
EOF

cmd=("$bin" run "$out/in.jsonl" --output "$out/out.jsonl" --config "$out/cfg.yaml"
     --state "$out/state.db" --concurrency "$concurrency" --json -q)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$mock_pid/stat"; }
mock_before=$(cpu_ticks)
/usr/bin/time -v -o "$out/time.txt" "${cmd[@]}" >"$out/summary.json" 2>"$out/run.log" || {
  echo "llmpool run failed:" >&2; cat "$out/run.log" >&2; exit 1; }
mock_after=$(cpu_ticks)

lines=$(wc -l <"$out/out.jsonl")
unique=$(grep -o '"custom_id":"[^"]*"' "$out/out.jsonl" | sort -u | wc -l)
ok=$(grep -c '"status_code":200' "$out/out.jsonl" || true)

hz=$(getconf CLK_TCK)
awk -v tasks="$tasks" -v conc="$concurrency" -v lat="$latency_ms" -v lines="$lines" \
    -v unique="$unique" -v ok="$ok" -v mock_ticks=$((mock_after - mock_before)) -v hz="$hz" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" -v cores="$(nproc)" '
  FILENAME ~ /time.txt$/ {
    if ($0 ~ /User time/) user = $NF
    if ($0 ~ /System time/) sys = $NF
    if ($0 ~ /Maximum resident set size/) rss = $NF
    if ($0 ~ /Elapsed \(wall clock\)/) { n = split($NF, t, ":"); wall = (n == 3 ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2]) }
  }
  END {
    bound = tasks * lat / 1000.0 / conc
    printf "tasks              %d (output lines %d, distinct custom_ids %d, status 200: %d)\n", tasks, lines, unique, ok
    printf "concurrency        %d, mock latency %d ms\n", conc, lat
    printf "wall time          %.2f s (process, /usr/bin/time)\n", wall
    printf "little-law bound   %.2f s  -> wall/bound = %.3f (%.1f%% over)\n", bound, wall / bound, (wall / bound - 1) * 100
    printf "runner cpu         %.2f s user + %.2f s sys = %.3f s per 1,000 tasks\n", user, sys, (user + sys) * 1000 / tasks
    printf "runner peak rss    %.1f MiB\n", rss / 1024
    printf "mock cpu           %.2f s (%.3f s per 1,000 requests)\n", mock_ticks / hz, mock_ticks / hz * 1000 / tasks
    printf "machine            %d cores, load average at end %.2f\n", cores, load
  }' "$out/time.txt"
echo "summary (--json):"
cat "$out/summary.json"
echo "command: ${cmd[*]}" | sed "s|$out|\$TMP|g"
