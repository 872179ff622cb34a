"""The initramfs's userland for a kernel's architecture: busybox, and the shared libraries of the
binaries put into the VM.

amd64 (the host's own architecture): the host's busybox-static and `ldd`. arm64: busybox-static
from Debian bookworm arm64 (downloaded with the kernel target's private apt state, cached), and
the DT_NEEDED closure of each cross-built binary resolved in the cross build's sysroot
(scripts/make-sysroot.sh; COWVM_SYSROOT overrides its path).
"""

import os
import re
import subprocess

from . import kernels

HOST_BUSYBOX = "/bin/busybox"
DEFAULT_SYSROOT = {"arm64": "/var/cache/cowwatch-cross/bookworm-arm64/sysroot"}
# e_machine of the ELF header → Debian architecture
ELF_MACHINE = {0x3E: "amd64", 0xB7: "arm64"}
# The suite whose busybox-static is taken: the host's (bookworm), so the applet list the host's
# busybox prints is the guest busybox's too.
BUSYBOX_TARGET = {"arm64": "arm64-6.1"}


def elf_arch(path):
    """Debian architecture of an ELF file, or None when it is not ELF (a script)."""
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        return None
    return ELF_MACHINE.get(int.from_bytes(head[18:20], "little"), "unknown")


def sysroot(arch):
    path = os.environ.get("COWVM_SYSROOT") or DEFAULT_SYSROOT.get(arch)
    if not path or not os.path.isdir(path):
        raise RuntimeError("no %s sysroot at %s: run scripts/make-sysroot.sh %s (or set COWVM_SYSROOT)"
                           % (arch, path, arch))
    return path


def busybox(arch, log):
    """Path of a static busybox for arch."""
    if arch == "amd64":
        return HOST_BUSYBOX
    target = BUSYBOX_TARGET[arch]
    apt = kernels.AptState(target)
    apt.update(log)
    version = apt.show("busybox-static").get("Version")
    if not version:
        raise kernels.RegistryError("busybox-static has no %s candidate in the %s lists" % (arch, target))
    out = os.path.join(kernels.CACHE_ROOT, "userland", arch, "busybox-" + version.replace(":", "_"))
    if not os.path.exists(out):
        deb = apt.download("busybox-static", version, os.path.join(kernels.CACHE_ROOT, "debs"), log)
        tmp = out + ".tmp"
        os.makedirs(tmp, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
        os.replace(os.path.join(tmp, "bin", "busybox"), out)
        subprocess.run(["rm", "-rf", tmp], check=True)
    return out


def _ldd(path):
    proc = subprocess.run(["ldd", path], capture_output=True, text=True)
    if proc.returncode != 0:
        return []
    libs = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if "=>" in line:
            target = line.split("=>", 1)[1].strip().split(" (")[0].strip()
            if target.startswith("/"):
                libs.append(target)
            elif target == "not found":
                raise RuntimeError("%s: shared library not found: %s" % (path, line))
        elif line.startswith("/"):
            libs.append(line.split(" (")[0].strip())
    return libs


def _dynamic(path):
    """(interpreter or None, [needed sonames]) from readelf."""
    out = subprocess.run(["readelf", "-d", "-l", path], capture_output=True, text=True).stdout
    interp = re.search(r"\[Requesting program interpreter: ([^\]]+)\]", out)
    return (interp.group(1) if interp else None,
            re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def _closure(path, root, triplet):
    """[(host file, path in the VM)] of a foreign binary's loader and libraries, from root."""
    found, todo, seen = [], [path], set()
    interp, _ = _dynamic(path)
    if interp:
        found.append((os.path.realpath(root + interp), interp))
    while todo:
        _, needed = _dynamic(todo.pop())
        for soname in needed:
            if soname in seen:
                continue
            seen.add(soname)
            for d in ("/lib/" + triplet, "/usr/lib/" + triplet, "/lib", "/usr/lib"):
                host = root + d + "/" + soname
                if os.path.exists(host):
                    found.append((os.path.realpath(host), d + "/" + soname))
                    todo.append(host)
                    break
            else:
                raise RuntimeError("%s needs %s, which the sysroot %s does not have" % (path, soname, root))
    return found


TRIPLET = {"arm64": "aarch64-linux-gnu"}


def libraries(path, arch):
    """[(host file, path in the VM)] of the shared libraries (and loader) an executable needs; [] when
    static or not ELF. Fails when the binary is of another architecture than the VM's."""
    binary_arch = elf_arch(path)
    if binary_arch is None:
        return []
    if binary_arch != arch:
        raise RuntimeError("%s is an %s binary; this VM runs %s (build it with scripts/build.sh --arch %s)"
                           % (path, binary_arch, arch, arch))
    if arch == "amd64":
        return [(os.path.realpath(lib), lib) for lib in _ldd(path)]
    return _closure(path, sysroot(arch), TRIPLET[arch])
