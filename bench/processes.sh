# Sourced by the benchmark scripts: a scratch directory ($out) and background processes that are
# all stopped (and the directory removed) when the script exits, however it exits.
out=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$out"
}
trap cleanup EXIT

# start NAME CMD...: runs CMD in the background with stdout to $out/NAME.port and waits (at most
# 10 s) for its first line, the port; sets NAME_pid.
start() {
  local name=$1; shift
  "$@" >"$out/$name.port" 2>"$out/$name.log" &
  pids+=($!)
  eval "${name}_pid=$!"
  for _ in $(seq 200); do [ -s "$out/$name.port" ] && break; sleep 0.05; done
  [ -s "$out/$name.port" ] || { echo "$name did not start:" >&2; cat "$out/$name.log" >&2; exit 1; }
}

# CPU time a process has used, in clock ticks (utime + stime of /proc/PID/stat).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# wrk_stats FILE: reads a `wrk --latency` report into rps, p50, p99, n (requests completed) and
# errs (its error lines, "" when none).
wrk_stats() {
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$1")
  p50=$(awk '$1 == "50%" {print $2}' "$1")
  p99=$(awk '$1 == "99%" {print $2}' "$1")
  n=$(awk '/requests in/ {print $1}' "$1")
  errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' "$1")
}

# us_per_request TICKS N: CPU microseconds per request, from clock ticks over N requests.
us_per_request() {
  awk -v t="$1" -v hz="$hz" -v n="$2" 'BEGIN { printf "%.1f", (n > 0 && t > 0 ? t * 1e6 / hz / n : 0) }'
}
