#!/usr/bin/env bash
# README command 1: build, then run the daemon in the foreground with its embedded default
# configuration (or the arguments given, e.g. --config FILE). Needs root (CAP_BPF + CAP_PERFMON).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build} scripts/build.sh
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
exec $SUDO "${BUILD_DIR:-build}/daemon/cowwatchd" "$@"
