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
