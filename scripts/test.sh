#!/usr/bin/env bash
# README command 2 (and CI): build, then run the whole test suite with ctest, every tier:
#   unit, bpf (host verifier), vm (Debian 6.1/6.12/newest kernels under QEMU), hostkernel,
#   fleethost (the .deb under systemd on booted Debian 12 and 13),
#   ecosystem (real Prometheus/Alertmanager, packaging), reliability (fault injection, load,
#   least privilege), fuzz (corpus replays); beside it, a clang libFuzzer smoke run of every fuzz
#   target and the unit/fuzz tiers again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Tiers that need root or a kernel feature skip with a reason, except under CI=true, where a
# skipped VM, fleethost or ecosystem tier fails the run.
#
# The side tiers (fuzz smoke, sanitizers) run at nice 10 while ctest runs: the VM tier boots one
# VM at a time (TCG, one CPU), which leaves the other CPU idle for most of ctest. Their output
# goes to build/side-tiers.log and is printed when both are done. COWWATCH_SKIP_FUZZ=1 /
# COWWATCH_SKIP_SANITIZERS=1 leave them out.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
BUILD_DIR=build scripts/build.sh -DCOWWATCH_TESTS=ON

side_tiers() {
  set -e
  if [ "${COWWATCH_SKIP_FUZZ:-0}" != 1 ]; then
    echo "== fuzz smoke (tests/fuzz/smoke.sh) =="
    FUZZ_BUILD_DIR=build-fuzz tests/fuzz/smoke.sh   # clang libFuzzer + ASan/UBSan, 15 s per target
  fi
  if [ "${COWWATCH_SKIP_SANITIZERS:-0}" != 1 ]; then
    echo "== unit and fuzz tiers under ASan+UBSan (build-asan) =="
    # only what the unit and fuzz tiers run (cowwatch_unit_tests, cowwatch_fuzz_replays)
    BUILD_DIR=build-asan BUILD_TYPE=Debug BUILD_TARGETS="cowwatch_unit_tests cowwatch_fuzz_replays" \
      scripts/build.sh -DCOWWATCH_TESTS=ON -DCOWWATCH_SANITIZE=ON
    (cd build-asan && ctest --output-on-failure --timeout 600 -j2 -L 'unit|fuzz')
  fi
  echo "== side tiers done after $(( $(date +%s) - start ))s =="
}

side_log=build/side-tiers.log
set -m   # the side tiers get a process group of their own, stopped whole if this script stops early
(renice -n 10 -p "$BASHPID" >/dev/null; side_tiers) > "$side_log" 2>&1 < /dev/null &
side_pid=$!
set +m
trap 'kill -- -"$side_pid" 2>/dev/null || true' EXIT

ctest_rc=0
(cd build && ctest --output-on-failure --timeout 900 -j2) || ctest_rc=$?
echo "test.sh: ctest done in $(( $(date +%s) - start ))s (exit $ctest_rc); waiting for the side tiers"
side_rc=0
wait "$side_pid" || side_rc=$?
cat "$side_log"
if [ "$ctest_rc" != 0 ] || [ "$side_rc" != 0 ]; then
  echo "test.sh: FAILED: ctest exit $ctest_rc, side tiers (fuzz smoke, sanitizers) exit $side_rc ($side_log)"
  exit 1
fi
echo "test.sh: all tiers done in $(( $(date +%s) - start ))s"
