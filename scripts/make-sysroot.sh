#!/usr/bin/env bash
# Makes (or reuses) the sysroot of a cross build: Debian bookworm's packages of the target
# architecture, downloaded with `apt-get download` in a private apt state and unpacked with
# dpkg-deb -x. The host's dpkg architecture and package set are never touched (installing the arm64
# -dev packages next to the amd64 ones is impossible: libyaml-cpp-dev and civetweb are not
# Multi-Arch: same). Cached outside the clone, like the VM kernels.
#
#   scripts/make-sysroot.sh arm64      prints the sysroot's path (last line of stdout)
#
# Layout under ${COWWATCH_CROSS_CACHE:-/var/cache/cowwatch-cross}/bookworm-<arch>/:
#   apt/        private apt state (sources, lists, package cache)
#   sysroot/    the unpacked packages; sysroot.stamp names the packages it was made from
#   shlibs.map  "<soname> <dependency>" from the packages' shlibs files (the .deb's Depends:
#               dpkg-shlibdeps cannot see a foreign sysroot; cmake/cross_deb_depends.cmake reads it)
set -euo pipefail

arch=${1:?usage: make-sysroot.sh arm64}
case "$arch" in
  arm64) triplet=aarch64-linux-gnu ;;
  *) echo "make-sysroot: unsupported architecture '$arch' (supported: arm64)" >&2; exit 2 ;;
esac
suite=bookworm
mirror=${COWWATCH_MIRROR:-http://deb.debian.org}
cache=${COWWATCH_CROSS_CACHE:-/var/cache/cowwatch-cross}/$suite-$arch
apt_dir=$cache/apt
sysroot=$cache/sysroot
log() { echo "make-sysroot: $*" >&2; }

# What the build links against (the same libraries as scripts/install-deps.sh, for $arch), plus
# the C/C++ runtime. apt resolves the rest of the closure.
packages=(
  libc6-dev libstdc++-12-dev libgcc-12-dev linux-libc-dev
  libbpf-dev libelf-dev zlib1g-dev libzstd-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libcli11-dev nlohmann-json3-dev
  libsystemd-dev libcap-ng-dev libcurl4-openssl-dev libssl-dev libcrypt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)

mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$cache"
cat >"$apt_dir/sources.sources" <<EOF
Types: deb
URIs: $mirror/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $mirror/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.sources" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o Dir::State::status=/dev/null -o Debug::NoLocking=1
          -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
          -o Acquire::Retries=2 -o Acquire::http::Timeout=20)

exec 9>"$cache/lock"
flock 9

# Lists at most once a day; a failed update with cached lists keeps the sysroot that exists.
stamp=$apt_dir/updated.stamp
if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
  if apt-get "${apt_opts[@]}" -q update >"$cache/update.log" 2>&1; then
    touch "$stamp"
  elif [ -e "$sysroot.stamp" ]; then
    log "apt-get update failed (see $cache/update.log); keeping the existing sysroot"
    echo "$sysroot"; exit 0
  else
    log "apt-get update failed and there is no sysroot yet:"; tail -5 "$cache/update.log" >&2; exit 1
  fi
fi

# The whole dependency closure, as apt would install it into an empty root.
apt-get "${apt_opts[@]}" -q -y --no-install-recommends --download-only install "${packages[@]}" \
  >"$cache/download.log" 2>&1 || { log "downloading the $arch packages failed:"; tail -20 "$cache/download.log" >&2; exit 1; }
mapfile -t debs < <(ls "$apt_dir/cache/archives/"*_"$arch".deb "$apt_dir/cache/archives/"*_all.deb 2>/dev/null | sort)
want=$(printf '%s\n' "${packages[@]}" "${debs[@]##*/}" | sha256sum | cut -c1-16)
if [ -e "$sysroot.stamp" ] && [ "$(cat "$sysroot.stamp")" = "$want" ]; then
  echo "$sysroot"; exit 0
fi

log "unpacking ${#debs[@]} packages into $sysroot"
rm -rf "$sysroot.tmp"
mkdir -p "$sysroot.tmp"
: >"$cache/shlibs.map.tmp"
for deb in "${debs[@]}"; do
  dpkg-deb -x "$deb" "$sysroot.tmp"
  # shlibs: "<library> <soversion> <dependency>" lines (no udeb: prefix)
  dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./shlibs 2>/dev/null |
    awk '!/^udeb:/ && NF >= 3 { dep = $3; for (i = 4; i <= NF; i++) dep = dep " " $i;
                                 print $1 ".so." $2, dep }' >>"$cache/shlibs.map.tmp" || true
done
# Absolute symlinks (e.g. lib*.so -> /lib/<triplet>/lib*.so.N) must stay inside the sysroot.
find "$sysroot.tmp" -type l | while read -r link; do
  target=$(readlink "$link")
  case "$target" in
    /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot.tmp$target")" "$link" ;;
  esac
done
[ -e "$sysroot.tmp/usr/lib/$triplet/libc.so" ] || { log "no libc.so for $triplet in the sysroot"; exit 1; }
rm -rf "$sysroot"
mv "$sysroot.tmp" "$sysroot"
sort -u "$cache/shlibs.map.tmp" >"$cache/shlibs.map"
rm -f "$cache/shlibs.map.tmp"
echo "$want" >"$sysroot.stamp"
log "sysroot ready: $(du -sh "$sysroot" | cut -f1), ${#debs[@]} packages"
echo "$sysroot"
