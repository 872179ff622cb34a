#!/usr/bin/env bash
# Installs the Debian dependencies (if missing) and builds cowwatch into ${BUILD_DIR:-build}.
# Extra arguments go to the CMake configure step (e.g. -DCOWWATCH_SANITIZE=ON); BUILD_TARGETS
# (space-separated) builds just those targets.
#
# Cross build: `scripts/build.sh --arch arm64` (or BUILD_ARCH=arm64) builds into
# ${BUILD_DIR:-build-arm64} with clang/lld and a sysroot of Debian bookworm arm64 packages
# (scripts/make-sysroot.sh, cached in /var/cache/cowwatch-cross): the daemon, the CLI, the VM
# tier's programs (cwwl, bpf_verifier_test) and the arm64 .deb (build-arm64/packages/). Man pages
# come from the native build in ${NATIVE_BUILD_DIR:-build} when it has the programs.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${BUILD_ARCH:-}
if [ "${1:-}" = "--arch" ]; then
  arch=${2:?--arch needs an architecture (arm64)}
  shift 2
fi
scripts/install-deps.sh
case "$arch" in
  "" | native | "$(dpkg --print-architecture)")
    build=${BUILD_DIR:-build}
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
    targets=()
    for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
    cmake --build "$build" -j"$(nproc)" "${targets[@]}"
    ;;
  arm64)
    sysroot=$(scripts/make-sysroot.sh arm64 | tail -1)
    build=${BUILD_DIR:-build-arm64}
    native=$(realpath -m "${NATIVE_BUILD_DIR:-build}")
    cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchain-arm64.cmake" \
      -DCOWWATCH_SYSROOT="$sysroot" -DCOWWATCH_MAN_FROM_BUILD="$native" \
      -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DCOWWATCH_TESTS=ON "$@" >/dev/null
    cmake --build "$build" -j"$(nproc)" --target cowwatchd cowwatch cwwl bpf_verifier_test
    cmake --build "$build" --target deb
    ;;
  *)
    echo "build.sh: unsupported --arch '$arch' (supported: arm64, or none for this machine)" >&2
    exit 2
    ;;
esac
