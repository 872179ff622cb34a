#!/usr/bin/env bash
# Installs every build, test and benchmark dependency of cowwatch from Debian's packages.
# Idempotent and non-interactive: packages already present are skipped; `apt-get update`
# runs only when something is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  # build: BPF toolchain and libraries
  clang llvm lld libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev pkg-config cmake make g++
  # daemon libraries
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev
  libsystemd-dev libcap-ng-dev libcurl4-openssl-dev
  # metrics over TLS and basic auth: OpenSSL (civetweb opens libssl.so at run time), libxcrypt
  libssl-dev libcrypt-dev openssl
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev libclang-rt-14-dev
  python3 curl jq tmux wrk procps iproute2 util-linux kmod file
  # real-kernel tier (QEMU) and ecosystem tier
  qemu-system-x86 qemu-system-arm busybox-static cpio xz-utils zstd debian-archive-keyring
  prometheus prometheus-alertmanager systemd dpkg-dev fakeroot
  # packaging (man pages, lintian) and the fleethost tier (Debian root file systems)
  help2man lintian mmdebstrap e2fsprogs
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
