#!/bin/bash
# The whole daemon at scale (issue 8: RSS at 10,000 tracked processes, /metrics p99): starts the
# real cowwatchd, forks N real sleeping processes (each one a fork the daemon sees and tracks),
# waits until cowwatch_tracked_processes reaches N, then reports the daemon's VmRSS/VmHWM and the
# wall latency of S scrapes of /metrics over loopback (curl), with top_k_processes 50.
#
#   bench/daemon_scale.sh [--processes N] [--scrapes S] [--idle SECONDS] [--build-dir DIR]
#
# Needs root (BPF). Prints "SKIP: ..." and exits 77 where the daemon cannot attach.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build"
procs=10000
scrapes=200
idle=10
while [ $# -gt 0 ]; do
  case "$1" in
    --processes) procs=$2; shift ;;
    --scrapes) scrapes=$2; shift ;;
    --idle) idle=$2; shift ;;
    --build-dir) build=$2; shift ;;
    *) echo "usage: $0 [--processes N] [--scrapes S] [--idle SECONDS] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
daemon="$build/daemon/cowwatchd"
[ -x "$daemon" ] || { echo "missing $daemon: build first" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

work=$(mktemp -d)
. "$here/daemon_lib.sh"
trap 'cw_stop; rm -rf "$work"' EXIT

cw_start_daemon
url=$cw_url
rss() { cw_status "$1"; }
before_rss=$(rss VmRSS)
before_n=$(cw_metric cowwatch_tracked_processes)

cw_start_sleepers "$procs"
cw_wait_tracked "$procs" 180
n=$cw_tracked
sleep 2  # one more poll with every process in the model

c0=$(cw_cpu_ticks)
samples=()
for _ in $(seq 1 $((idle * 2))); do  # idle: polls and alert ticks, no scrapes; RSS moves with each tick
  samples+=("$(rss VmRSS)")
  sleep 0.5
done
c1=$(cw_cpu_ticks)
read -r rss_min rss_med rss_max < <(printf '%s\n' "${samples[@]}" | sort -n | awk '{v[NR] = $1} END {print v[1], v[int((NR + 1) / 2)], v[NR]}')
idle_cpu=$(awk -v d=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v s="$idle" 'BEGIN {printf "%.1f", 100 * d / hz / s}')

lat="$work/lat"
for _ in $(seq 1 "$scrapes"); do
  curl -s -o "$work/body" -w '%{time_total}\n' "$url" >>"$lat"
done
body=$(stat -c %s "$work/body")
echo "== cowwatchd at scale: $(uname -r), $(nproc) CPUs, loadavg $(cut -d' ' -f1 /proc/loadavg) =="
printf '%-44s %s\n' "tracked processes (before / after)" "${before_n%.*} / $n"
printf '%-44s %s\n' "daemon VmRSS before the sleepers" "$((before_rss / 1024)) MiB ($before_rss kB)"
printf '%-44s %s\n' "daemon VmRSS with them, $((idle * 2)) samples in $idle s" "median $((rss_med / 1024)) MiB ($rss_med kB), min $rss_min kB, max $rss_max kB"
printf '%-44s %s\n' "  of which anonymous / file+bpf maps" "$(rss RssAnon) kB / $(rss RssFile) kB"
printf '%-44s %s\n' "daemon VmHWM (peak, includes start-up)" "$(rss VmHWM) kB"
printf '%-44s %s\n' "daemon CPU, $idle s without scrapes" "$idle_cpu % of one CPU"
printf '%-44s %s\n' "RSS per tracked process" "$(( (rss_med - before_rss) * 1024 / (n - ${before_n%.*}) )) B"
sort -n "$lat" | awk -v body="$body" '{v[NR] = $1 * 1000} END {
  printf "%-44s %d scrapes, %d KiB body: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", "/metrics wall latency (curl, loopback)", NR, body / 1024,
    v[int(NR * 0.50 + 0.5)], v[int(NR * 0.99 + 0.5)], v[NR] }'
