#!/usr/bin/env python3
"""The arm64 Debian package of the cross build (scripts/build.sh --arch arm64): what the amd64
package test checks that does not need to run the binaries, plus that apt can install it into an
empty arm64 root of Debian 12 and of Debian 13. The package is not run here (the arm64 VM tier
runs the same binaries).

  * control: Architecture arm64, Depends from the sysroot's shlibs (libbpf1, ...), no yaml-cpp
  * dpkg --unpack into an empty dpkg database (--force-architecture: this host is amd64) registers
    /etc/cowwatch/cowwatch.yaml as a conffile
  * the files: the amd64 package's list (test_deb_package.EXPECTED); cowwatchd, cowwatch and the
    TLS shim are aarch64 ELF; the private libcrypto.so link points at /usr/lib/aarch64-linux-gnu
  * `apt-get --simulate install ./cowwatch_*_arm64.deb` with a private apt state whose status is
    empty (nothing installed) and bookworm / trixie arm64 lists: every Depends resolves

usage: test_deb_arm64.py PACKAGES_DIR APT_STATE_BOOKWORM APT_STATE_TRIXIE
  APT_STATE_*: a private apt root holding sources.sources, lists/ (made by scripts/make-sysroot.sh
  and by tests/vm's kernel fetch for the arm64-6.12 target)
"""
import glob
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fail, require_tool, run  # noqa: E402
from test_deb_package import EXPECTED, check_metadata, dpkg_files  # noqa: E402

AARCH64 = 0xB7


def elf_machine(path):
    with open(path, "rb") as f:
        head = f.read(20)
    return int.from_bytes(head[18:20], "little") if head[:4] == b"\x7fELF" else None


def apt_simulate(deb, state, label):
    """apt-get -s install DEB into an empty arm64 root with the lists under `state`."""
    sources = os.path.join(state, "sources.sources")
    if not os.path.exists(sources):
        fail(f"{label}: no apt state at {state} (sources.sources missing)")
    opts = ["-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={os.path.join(state, 'lists')}",
            "-o", f"Dir::Cache={os.path.join(state, 'cache')}", "-o", "Dir::State::status=/dev/null",
            "-o", "Debug::NoLocking=1", "-o", "APT::Architecture=arm64", "-o", "APT::Architectures::=arm64"]
    result = run(["apt-get", *opts, "-s", "-q", "--no-install-recommends", "install", deb], timeout=120)
    inst = re.findall(r"^Inst (\S+)", result.stdout, re.M)
    if result.returncode != 0 or "cowwatch" not in inst:
        print(result.stdout[-3000:] + result.stderr[-2000:], end="")
        fail(f"{label}: apt cannot install the arm64 package into an empty root (rc {result.returncode})")
    print(f"{label}: apt installs cowwatch and {len(inst) - 1} dependencies into an empty arm64 root")


def main():
    packages_dir, bookworm_state, trixie_state = sys.argv[1:4]
    dpkg = require_tool("dpkg")
    dpkg_deb = require_tool("dpkg-deb")
    debs = glob.glob(os.path.join(packages_dir, "cowwatch_*_arm64.deb"))
    if len(debs) != 1:
        fail(f"expected one cowwatch_*_arm64.deb in {packages_dir}, found {debs}")
    deb = os.path.abspath(debs[0])  # apt takes a local file only as a path with a slash
    print(f"package: {os.path.basename(deb)} ({os.path.getsize(deb)} bytes)")
    info = run([dpkg_deb, "--info", deb]).stdout
    print(info)
    for field, pattern in (("Package", r"cowwatch"), ("Architecture", r"arm64"), ("Depends", r".*libbpf1.*")):
        if not re.search(rf"^ {field}: {pattern}$", info, re.M):
            fail(f"control field {field} missing or not matching {pattern!r}")

    with tempfile.TemporaryDirectory(prefix="cw-deb-arm64-") as tmp:
        dbroot = os.path.join(tmp, "dpkg-root")
        admindir = os.path.join(dbroot, "var/lib/dpkg")
        for sub in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admindir, sub))
        open(os.path.join(admindir, "status"), "w").close()
        result = run([dpkg, f"--root={dbroot}", "--force-depends", "--force-not-root", "--force-bad-path",
                      "--force-architecture", "--unpack", deb], timeout=60)
        print(result.stdout + result.stderr, end="")
        if result.returncode != 0:
            fail("dpkg --unpack into a clean root failed")
        status = run([dpkg, f"--root={dbroot}", "--status", "cowwatch"]).stdout
        if "/etc/cowwatch/cowwatch.yaml" not in status:
            fail(f"/etc/cowwatch/cowwatch.yaml is not a registered conffile:\n{status}")

        root = os.path.join(tmp, "root")
        if run([dpkg_deb, "-x", deb, root]).returncode != 0:
            fail("dpkg-deb -x failed")
        files = dpkg_files(root)
        missing = [p for p in EXPECTED if p not in files]
        if missing:
            fail(f"not installed by the package: {missing}")
        for binary in ("usr/sbin/cowwatchd", "usr/bin/cowwatch", "usr/lib/cowwatch/libssl.so"):
            machine = elf_machine(os.path.join(root, binary))
            if machine != AARCH64:
                fail(f"{binary} is not an aarch64 ELF (e_machine {machine})")
        link = os.path.join(root, "usr/lib/cowwatch/libcrypto.so")
        target = os.path.normpath(os.path.join("/usr/lib/cowwatch", os.readlink(link)))
        if target != "/usr/lib/aarch64-linux-gnu/libcrypto.so.3":
            fail(f"usr/lib/cowwatch/libcrypto.so points at {target}, not the system's arm64 libcrypto")
        print(f"{len(files)} files; binaries are aarch64; libcrypto.so -> {target}")
        check_metadata(info, root)

    apt_simulate(deb, bookworm_state, "Debian 12 (bookworm) arm64")
    apt_simulate(deb, trixie_state, "Debian 13 (trixie) arm64")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
