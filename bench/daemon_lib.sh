# Sourced by bench/daemon_scale.sh and bench/soak.sh: the real cowwatchd on a private port and
# control socket, reading its /metrics and /proc entries, and N real sleeping processes.
# The caller sets `build` and `work` (a private directory) and calls cw_stop from its EXIT trap.

cw_dpid=
cw_sleepers=

# Starts "$build/daemon/cowwatchd" (default configuration, top_k_processes 50) and waits for
# /metrics to answer. Sets cw_dpid, cw_url, cw_sock. Exits 77 if the daemon exits.
cw_start_daemon() {
  local port=$((20000 + RANDOM % 20000))
  cw_sock=$work/cowwatch.sock
  cat >"$work/cowwatch.yaml" <<YAML
metrics:
  listen: "127.0.0.1:$port"
  top_k_processes: 50
control_socket:
  path: $cw_sock
YAML
  "$build/daemon/cowwatchd" --config "$work/cowwatch.yaml" >"$work/daemon.log" 2>&1 &
  cw_dpid=$!
  cw_url="http://127.0.0.1:$port/metrics"
  local _
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$cw_url" && return 0
    kill -0 "$cw_dpid" 2>/dev/null || { echo "SKIP: cowwatchd exited:"; tail -5 "$work/daemon.log"; exit 77; }
    sleep 0.2
  done
  echo "FAIL: cowwatchd did not serve $cw_url in 20 s"; exit 1
}

# The last value of one series (name with its labels, as exposed) in a fresh scrape.
cw_metric() { curl -sf "$cw_url" | awk -v m="$1" '$1 == m {v = $2} END {print v}'; }

# A field of the daemon's /proc/PID/status, in its unit (kB for Vm*/Rss*).
cw_status() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$cw_dpid/status"; }

# The daemon's CPU time so far (utime + stime), in clock ticks.
cw_cpu_ticks() { awk '{print $14 + $15}' "/proc/$cw_dpid/stat"; }

# N sleepers in their own process group (one kill ends them all). Sets cw_sleepers.
cw_start_sleepers() {
  setsid bash -c 'for ((i = 0; i < '"$1"'; i++)); do sleep 86400 & done; wait' </dev/null >/dev/null 2>&1 &
  cw_sleepers=$!
}

# Waits until cowwatch_tracked_processes reaches N (fails after TIMEOUT seconds). Sets cw_tracked.
cw_wait_tracked() {
  local t0
  t0=$(date +%s)
  while :; do
    cw_tracked=$(cw_metric cowwatch_tracked_processes)
    cw_tracked=${cw_tracked%.*}
    [ "${cw_tracked:-0}" -ge "$1" ] && return 0
    [ $(($(date +%s) - t0)) -gt "$2" ] && { echo "FAIL: tracked processes reached only $cw_tracked of $1 in $2 s"; exit 1; }
    sleep 1
  done
}

# Ends the sleepers and the daemon (for EXIT traps).
cw_stop() {
  [ -n "$cw_sleepers" ] && kill -TERM -- "-$cw_sleepers" 2>/dev/null || true
  [ -n "$cw_dpid" ] && kill -TERM "$cw_dpid" 2>/dev/null && wait "$cw_dpid" 2>/dev/null || true
}
