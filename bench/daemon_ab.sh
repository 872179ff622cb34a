#!/bin/bash
# Two cowwatchd builds side by side (docs/performance.md §6): both attached at once to the same N
# real sleeping processes and the soak's fork+write storm (build/bench/cw_soak_storm), each scraped
# every second, for S seconds. Prints both daemons' VmRSS, RssAnon and CPU (% of one core over the
# last 30 s) every 30 s, then the mean CPU of each and the ratio new/old. Same machine, same
# moment, same load: the ratio is the comparison.
#
#   bench/daemon_ab.sh --old BIN --new BIN [--seconds S] [--processes N] [--build-dir DIR]
#
# BIN is a cowwatchd binary (e.g. one built from an older commit in a worktree). Needs root, BPF
# and a cgroup2 mount; otherwise prints "SKIP: ..." and exits 77.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build"
secs=600
procs=10000
old= new=
while [ $# -gt 0 ]; do
  case "$1" in
    --old) old=$2; shift ;;
    --new) new=$2; shift ;;
    --seconds) secs=$2; shift ;;
    --processes) procs=$2; shift ;;
    --build-dir) build=$2; shift ;;
    *) echo "usage: $0 --old BIN --new BIN [--seconds S] [--processes N] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
for b in "$old" "$new" "$build/bench/cw_soak_storm"; do
  [ -n "$b" ] && [ -x "$b" ] || { echo "missing executable '${b}': give --old and --new, build cw_soak_storm" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
cg2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
[ -n "$cg2" ] || { echo "SKIP: no cgroup2 mount (the storm's cgroups are cgroup v2)"; exit 77; }

work=$(mktemp -d)
cg=$cg2/cowwatch-ab.$$
declare -A bin=([old]=$old [new]=$new) url pid c0
sleepers= storm=
cleanup() {
  [ -n "$storm" ] && kill -TERM "$storm" 2>/dev/null && wait "$storm" 2>/dev/null || true
  [ -n "$sleepers" ] && kill -TERM -- "-$sleepers" 2>/dev/null || true
  for v in old new; do [ -n "${pid[$v]:-}" ] && kill -TERM "${pid[$v]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rmdir "$cg/storm" "$cg/parent" "$cg" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$cg" "$cg/parent" "$cg/storm"
for v in old new; do
  port=$((20000 + RANDOM % 20000))
  printf 'metrics:\n  listen: "127.0.0.1:%s"\n  top_k_processes: 50\ncontrol_socket:\n  path: %s/%s.sock\n' \
    "$port" "$work" "$v" >"$work/$v.yaml"
  "${bin[$v]}" --config "$work/$v.yaml" >"$work/$v.log" 2>&1 &
  pid[$v]=$!
  url[$v]=http://127.0.0.1:$port/metrics
done
for v in old new; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "${url[$v]}" && break; sleep 0.2; done
  curl -sf -o /dev/null "${url[$v]}" || { echo "SKIP: the $v daemon did not serve:"; tail -3 "$work/$v.log"; exit 77; }
done
setsid bash -c 'for ((i = 0; i < '"$procs"'; i++)); do sleep 86400 & done; wait' </dev/null >/dev/null 2>&1 &
sleepers=$!
(echo "$BASHPID" >"$cg/parent/cgroup.procs" && exec nice -n 10 "$build/bench/cw_soak_storm" --cgroup "$cg/storm" --pages 256) \
  >"$work/storm.out" 2>&1 &
storm=$!

hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for v in old new; do c0[$v]=$(cpu "${pid[$v]}"); done
echo "== cowwatch A/B: $(uname -r), $(nproc) CPUs, $procs sleepers + storm, a scrape per daemon per second, $secs s =="
echo "old: $old"
echo "new: $new"
printf '%6s %9s %9s %7s %9s %9s %7s\n' t old_rss old_anon old_cpu new_rss new_anon new_cpu
series=$work/series
t0=$(date +%s)
next=30
while :; do
  t=$(($(date +%s) - t0))
  [ "$t" -ge "$secs" ] && break
  curl -s -o /dev/null "${url[old]}" &
  scrape=$!
  curl -s -o /dev/null "${url[new]}" || true
  wait "$scrape" || true
  if [ "$t" -ge "$next" ]; then
    row="$t"
    for v in old new; do
      c=$(cpu "${pid[$v]}")
      row="$row $(awk '$1 == "VmRSS:" {r = $2} $1 == "RssAnon:" {a = $2} END {print r, a}' "/proc/${pid[$v]}/status")"
      row="$row $(awk -v a="${c0[$v]}" -v b="$c" -v hz="$hz" -v s=$((t - next + 30)) 'BEGIN {printf "%.1f", 100 * (b - a) / hz / s}')"
      c0[$v]=$c
    done
    echo "$row" >>"$series"
    awk '{printf "%6d %9d %9d %6.1f%% %9d %9d %6.1f%%\n", $1, $2, $3, $4, $5, $6, $7}' <<<"$row"
    next=$((t + 30))
  fi
  sleep 1
done
kill -TERM "$storm"
wait "$storm" || true
storm=
echo "storm: $(grep '^total ' "$work/storm.out" || tail -1 "$work/storm.out")"
awk '{o += $4; n += $7; k++} END {if (k) printf "mean CPU: old %.2f %%, new %.2f %% of one core; new/old %.3f\n", o / k, n / k, (o ? n / o : 0)}' "$series"
