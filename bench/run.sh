#!/bin/sh
# cowwatch benchmarks: one command per figure set; every table in docs/performance.md came from it.
#
#   bench/run.sh [--quick] [--build-dir DIR]              host: model, consumer, storm (tracepoint rung),
#                                                         the daemon at 10,000 real processes
#   bench/run.sh --vm 6.1|6.12|newest [--quick] [--prefer kprobe|fentry] [--build-dir DIR]
#                                                         the storm + overload check in a QEMU kernel,
#                                                         whose clock counts instructions (-icount)
#   bench/run.sh --smoke [--build-dir DIR]                the ctest `bench` smoke (< 60 s)
#
# Build first: cmake -S . -B build && cmake --build build --target cw_bench_model cw_bench_storm cw_bench_consumer
# Root is needed for everything but the model benchmarks. Runs under `nice` (NICE=0 to disable):
# the A/B figures are ratios of interleaved pairs, so a shared machine skews both sides alike.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build="$here/../build"
mode=host
quick=
kernel=
prefer=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;;
    --smoke) mode=smoke ;;
    --vm) mode=vm; kernel=$2; shift ;;
    --prefer) prefer="--prefer-$2"; shift ;;
    --build-dir) build=$2; shift ;;
    *) echo "usage: $0 [--quick] [--smoke] [--vm KERNEL [--prefer kprobe|fentry]] [--build-dir DIR]" >&2; exit 2 ;;
  esac
  shift
done
bin="$build/bench"
for b in cw_bench_model cw_bench_storm cw_bench_consumer; do
  [ -x "$bin/$b" ] || { echo "missing $bin/$b: build the bench targets first" >&2; exit 2; }
done
nice_cmd="nice -n ${NICE:-10}"
[ "${NICE:-10}" = 0 ] && nice_cmd=

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
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  echo "##### aggregation and exposition (Google Benchmark)"
  $nice_cmd "$bin/cw_bench_model" ${quick:+--benchmark_min_time=0.1} 2>&1 | tee "$out/model.txt"
  echo; echo "##### consumer: capacity, wakeup policies, drops, overload, anomaly->alert latency"
  $nice_cmd "$bin/cw_bench_consumer" $quick 2>&1 | tee "$out/consumer.txt"
  echo; echo "##### kernel side: fork+write storm on the host's tracepoint rung"
  $nice_cmd "$bin/cw_bench_storm" $quick 2>&1 | tee "$out/storm.txt"
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
  $nice_cmd python3 "$here/../tests/vm/vm.py" shell --icount --kernel "$kernel" --timeout 1800 \
    --bin "$bin/cw_bench_storm" --run "cw_bench_storm $args $prefer"
  ;;
esac
