#!/usr/bin/env bash
# Fuzz smoke run: configures a separate clang build with libFuzzer + ASan + UBSan (coverage
# feedback in every library under test), builds only the fuzz targets and runs `ctest -L fuzz`
# there: each target fuzzes for COWWATCH_FUZZ_SECONDS (default 15) starting from its seed corpus.
#   FUZZ_BUILD_DIR   build directory (default <repo>/build-fuzz)
#   FUZZ_SECONDS     seconds per target (default 15)
# A longer run of one target (docs/reliability.md):
#   $FUZZ_BUILD_DIR/tests/fuzz/fuzz_config -max_total_time=3600 -jobs=2 \
#       $FUZZ_BUILD_DIR/tests/fuzz/corpus/config tests/fuzz/corpus/config
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$src/build-fuzz}
cc=$(command -v clang-14 || command -v clang)
cxx=$(command -v clang++-14 || command -v clang++)
CC=$cc CXX=$cxx cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCOWWATCH_FUZZ=ON -DCOWWATCH_TESTS=ON -DCOWWATCH_SANITIZE=ON \
  -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link \
  -DCOWWATCH_FUZZ_SECONDS="${FUZZ_SECONDS:-15}" >/dev/null
cmake --build "$build" --target cowwatch_fuzzers -j"$(nproc)"
cd "$build"
ctest -L fuzz --output-on-failure -j"$(nproc)"
