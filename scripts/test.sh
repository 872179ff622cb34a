#!/usr/bin/env bash
# README command 2 (and CI): build, then run the whole test suite with ctest, every tier:
#   unit, bpf (host verifier), vm (Debian 6.1/6.12/newest kernels under QEMU), hostkernel,
#   fleethost (the .deb under systemd on booted Debian 12 and 13),
#   ecosystem (real Prometheus/Alertmanager, packaging), reliability (fault injection, load,
#   least privilege), fuzz (corpus replays); then a clang libFuzzer smoke run of every fuzz target,
#   and the unit/fuzz tiers again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Tiers that need root or a kernel feature skip with a reason, except under CI=true, where a
# skipped VM, fleethost or ecosystem tier fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
BUILD_DIR=build scripts/build.sh -DCOWWATCH_TESTS=ON
(cd build && ctest --output-on-failure --timeout 900 -j2)
if [ "${COWWATCH_SKIP_FUZZ:-0}" != 1 ]; then
  FUZZ_BUILD_DIR=build-fuzz tests/fuzz/smoke.sh   # clang libFuzzer + ASan/UBSan, 15 s per target
fi
if [ "${COWWATCH_SKIP_SANITIZERS:-0}" != 1 ]; then
  # only what the unit and fuzz tiers run (cowwatch_unit_tests, cowwatch_fuzz_replays)
  BUILD_DIR=build-asan BUILD_TYPE=Debug BUILD_TARGETS="cowwatch_unit_tests cowwatch_fuzz_replays" \
    scripts/build.sh -DCOWWATCH_TESTS=ON -DCOWWATCH_SANITIZE=ON
  (cd build-asan && ctest --output-on-failure --timeout 600 -j2 -L 'unit|fuzz')
fi
echo "test.sh: all tiers done in $(( $(date +%s) - start ))s"
