#!/bin/sh
# cowwatch benchmarks: one command per figure set; every table in docs/performance.md came from it.
#
#   bench/run.sh [--quick] [--build-dir DIR]              host: model, consumer, storm (tracepoint rung),
#                                                         the daemon at 10,000 real processes
#   bench/run.sh --vm 6.1|6.12|newest [--quick] [--prefer kprobe|fentry] [--build-dir DIR]
#                                                         the storm + overload check in a QEMU kernel,
#                                                         whose clock counts instructions (-icount)
#   bench/run.sh --smoke [--build-dir DIR]                the ctest `bench` smoke (< 60 s)
#   --only paths                                          host or --vm: only cw_bench_paths (paths that
#                                                         never copy: cowwatch attached vs detached)
#
# Build first: cmake -S . -B build && cmake --build build --target cw_bench_model cw_bench_storm cw_bench_consumer cw_bench_paths
# Root is needed for everything but the model benchmarks. Runs under `nice` (NICE=0 to disable):
# the A/B figures are ratios of interleaved pairs, so a shared machine skews both sides alike.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build"
mode=host
quick=
kernel=
prefer=
only=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --smoke) mode=smoke ;;
    --vm) mode=vm; kernel=$2; shift ;;
    --prefer) prefer="--prefer-$2"; shift ;;
    --build-dir) build=$2; shift ;;
    --only) only=$2; shift
            [ "$only" = paths ] || { echo "--only: the one choice is 'paths'" >&2; exit 2; } ;;
    *) echo "usage: $0 [--quick] [--smoke] [--vm KERNEL [--prefer kprobe|fentry]] [--only paths] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
bin="$build/bench"
needed="cw_bench_model cw_bench_storm cw_bench_consumer cw_bench_paths"
[ $mode = vm ] && needed="cw_bench_storm cw_bench_paths"
[ "$only" = paths ] && needed=cw_bench_paths
for b in $needed; do
  [ -x "$bin/$b" ] || { echo "missing $bin/$b: build the bench targets first" >&2; exit 2; }
done
nice_cmd="nice -n ${NICE:-10}"
[ "${NICE:-10}" = 0 ] && nice_cmd=

# cw_bench_paths: the host's sizes (1 GiB first touch and fork) and macro workload (a -j2 compile
# of four of cowwatch's sources); under TCG (1 vCPU, 1 GiB, 64 MiB swap on /dev/ram1, no compiler)
# smaller regions and busybox gzip of the guest's files, one process per file.
if [ -n "$quick" ]; then host_paths="--rounds 3 --reps 2 --touch-mib 256 --fork-mib 256 --exits 500 --reclaim-mib 64 --file-mib 64"
else host_paths="--rounds 5 --reps 3 --touch-mib 1024 --fork-mib 1024 --exits 1000 --reclaim-mib 256 --file-mib 256"; fi
host_macro="$here/macro_compile.sh $build"
host_macro_label="g++ of 4 cowwatch sources, 2 at a time"
if [ -n "$quick" ]; then vm_paths="--rounds 3 --reps 2"; else vm_paths="--rounds 5 --reps 3"; fi
vm_paths="$vm_paths --touch-mib 256 --fork-mib 256 --exits 200 --reclaim-mib 16 --file-mib 64 --dir /tmp"
vm_macro="find / -xdev -type f | xargs -n 1 gzip -1 -c | wc -c >/dev/null"
vm_macro_label="busybox gzip -1 of every file of the guest, one process per file"

case $mode in
smoke)
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
  "$bin/cw_bench_model" --benchmark_filter='OnEvent/16$' --benchmark_min_time=0.01 >"$out" 2>&1
  cat "$out"
  grep -q 'model memory, 10000 tracked processes' "$out" && grep -q 'items_per_second' "$out" ||
    { echo "FAIL: cw_bench_model printed no table"; exit 1; }
  if [ "$(id -u)" != 0 ]; then
    echo "note: not root: the BPF benchmarks (cw_bench_storm, cw_bench_consumer) were not run"
    exit 0
  fi
  set +e
  "$bin/cw_bench_storm" --pages 1024 --rounds 1 --reps 1 --no-stats >"$out" 2>&1; rc=$?
  set -e
  cat "$out"
  if [ $rc = 77 ]; then echo "note: cw_bench_storm skipped (see above)"
  elif [ $rc != 0 ] || ! grep -q '^cowwatch (daemon pipeline)' "$out"; then echo "FAIL: cw_bench_storm"; exit 1; fi
  set +e
  "$bin/cw_bench_paths" --rounds 1 --reps 1 --modes detached,cowwatch --touch-mib 16 --fork-mib 16 --exits 20 \
    --reclaim-mib 8 --file-mib 8 --no-stats >"$out" 2>&1; rc=$?
  set -e
  cat "$out"
  if [ $rc = 77 ]; then echo "note: cw_bench_paths skipped (see above)"
  elif [ $rc != 0 ] || ! grep -q '^first-touch anon fault' "$out"; then echo "FAIL: cw_bench_paths"; exit 1; fi
  set +e
  "$bin/cw_bench_consumer" --only overload >"$out" 2>&1; rc=$?
  set -e
  cat "$out"
  if [ $rc = 77 ]; then echo "note: cw_bench_consumer skipped (see above)"
  elif [ $rc != 0 ] || ! grep -q '^counts exact: yes' "$out"; then echo "FAIL: cw_bench_consumer"; exit 1; fi
  set +e
  "$here/daemon_scale.sh" --build-dir "$build" --processes 200 --scrapes 10 --idle 1 >"$out" 2>&1; rc=$?
  set -e
  cat "$out"
  if [ $rc = 77 ]; then echo "note: daemon_scale.sh skipped (see above)"
  elif [ $rc != 0 ] || ! grep -q '^/metrics wall latency' "$out"; then echo "FAIL: daemon_scale.sh"; exit 1; fi
  echo "bench smoke: ok"
  ;;
host)
  if [ "$only" = paths ]; then
    $nice_cmd "$bin/cw_bench_paths" $host_paths --macro "$host_macro" --macro-label "$host_macro_label"
    exit
  fi
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  echo "##### aggregation and exposition (Google Benchmark)"
  $nice_cmd "$bin/cw_bench_model" ${quick:+--benchmark_min_time=0.1} 2>&1 | tee "$out/model.txt"
  echo; echo "##### consumer: capacity, wakeup policies, drops, overload, anomaly->alert latency"
  $nice_cmd "$bin/cw_bench_consumer" $quick 2>&1 | tee "$out/consumer.txt"
  echo; echo "##### kernel side: fork+write storm on the host's tracepoint rung"
  $nice_cmd "$bin/cw_bench_storm" $quick 2>&1 | tee "$out/storm.txt"
  echo; echo "##### paths that never copy: cowwatch attached vs detached"
  $nice_cmd "$bin/cw_bench_paths" $host_paths --macro "$host_macro" --macro-label "$host_macro_label" 2>&1 |
    tee "$out/paths.txt"
  echo; echo "##### the whole daemon with real processes: RSS, idle CPU, /metrics latency"
  if [ -n "$quick" ]; then procs=2000 scrapes=50; else procs=10000 scrapes=200; fi
  "$here/daemon_scale.sh" --build-dir "$build" --processes $procs --scrapes $scrapes 2>&1 | tee "$out/scale.txt"
  echo; "$here/summarize.sh" "$out"
  ;;
vm)
  # Under TCG with 1 vCPU a COW fault takes ~60 us: fewer pages, more rounds. --icount: the guest's
  # clock counts its instructions (1 ns each), so the figures do not move with the host's load.
  if [ -n "$quick" ]; then args="--pages 2048 --rounds 3 --reps 2 --overload"
  else args="--pages 4096 --rounds 7 --reps 3 --overload"; fi
  paths="cw_bench_paths $vm_paths --macro '$vm_macro' --macro-label '$vm_macro_label'"
  if [ "$only" = paths ]; then run=$paths; else run="cw_bench_storm $args $prefer; $paths"; fi
  $nice_cmd python3 "$here/../tests/vm/vm.py" shell --icount --kernel "$kernel" --timeout 3600 \
    --bin "$bin/cw_bench_storm" --bin "$bin/cw_bench_paths" --run "$run"
  ;;
esac
