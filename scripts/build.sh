#!/usr/bin/env bash
# Installs the Debian dependencies (if missing) and builds cowwatch into ${BUILD_DIR:-build}.
# Extra arguments go to the CMake configure step (e.g. -DCOWWATCH_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
