"""Build a gzip'd newc cpio initramfs: busybox-static, binaries + their shared libraries (with the
dynamic loader; cowvm/userland.py, per architecture), kernel modules, the kernel config at /boot/config-<release>, extra files and an
/init that sets the machine up, runs a script and powers off.

Serial-console protocol (parsed by qemu.py):
  @@COWVM INIT@@                      /init started (the kernel reached userspace)
  @@COWVM SETUP-FAIL <what>@@         a setup step failed (the run continues)
  @@COWVM BEGIN <name>@@ ... @@COWVM END <name> rc=<n> t=<start>-<end>s@@
                                      one section of output (guest uptime, seconds; no forks)
  @@COWVM DONE@@                      just before power-off
"""

import gzip
import io
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass, field

from . import userland

BUSYBOX = "/bin/busybox"
DEFAULT_MODULES = ["brd"]
MARK = "@@COWVM"


@dataclass
class Spec:
    bins: list = field(default_factory=list)        # host paths → /usr/bin/<basename>
    files: list = field(default_factory=list)       # (host path, absolute path in the VM)
    script: str = "true"                            # run as section "cmd" under /bin/sh
    modules: list = field(default_factory=lambda: list(DEFAULT_MODULES))
    script_is_init_body: bool = False               # script already writes its own sections


class Cpio:
    """Minimal newc writer (no need for root or a staging tree)."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.ino = 1000
        self.names = set()

    def _entry(self, name, mode, data=b"", nlink=1):
        name = name.lstrip("/") or "."
        if name in self.names:
            return
        self.names.add(name)
        self.ino += 1
        nameb = name.encode() + b"\0"
        hdr = "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X" % (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(nameb), 0)
        self.buf.write(hdr.encode() + nameb)
        self.buf.write(b"\0" * ((4 - (110 + len(nameb)) % 4) % 4))
        self.buf.write(data)
        self.buf.write(b"\0" * ((4 - len(data) % 4) % 4))

    def dir(self, name):
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            self._entry("/".join(parts[:i]), stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data, mode=0o755):
        self.dir(os.path.dirname(name.rstrip("/")) or "/")
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self.dir(os.path.dirname(name) or "/")
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        # newc stores rdev in the rdevmajor/rdevminor fields; write by hand
        self.dir(os.path.dirname(name))
        name = name.lstrip("/")
        self.names.add(name)
        self.ino += 1
        nameb = name.encode() + b"\0"
        hdr = "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X" % (
            self.ino, stat.S_IFCHR | 0o600, 0, 0, 1, 0, 0, 0, 0, major, minor, len(nameb), 0)
        self.buf.write(hdr.encode() + nameb)
        self.buf.write(b"\0" * ((4 - (110 + len(nameb)) % 4) % 4))

    def copy(self, host_path, name, mode=None):
        with open(host_path, "rb") as f:
            data = f.read()
        if mode is None:
            mode = os.stat(host_path).st_mode & 0o777
        self.file(name, data, mode)

    def finish(self):
        self._entry("TRAILER!!!", 0, nlink=1)
        data = self.buf.getvalue()
        return data + b"\0" * ((512 - len(data) % 512) % 512)


def init_script(spec, release, modules):
    insmods = "\n".join(
        'insmod /lib/modules/%s/%s.ko %s || fail "insmod %s"' % (release, name, _module_args(name), name)
        for name, _ in modules)
    if spec.script_is_init_body:
        body = spec.script
    else:
        body = "section cmd sh /cmd.sh\n"
    return INIT_TEMPLATE.format(mark=MARK, insmods=insmods, body=body)


def _module_args(name):
    # ram0: O_DIRECT target, ram1: swap; 64 MiB each
    return {"brd": "rd_nr=2 rd_size=65536"}.get(name, "")


INIT_TEMPLATE = r"""#!/bin/sh
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
export HOME=/root
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
echo "{mark} INIT@@"
fail() {{ echo "{mark} SETUP-FAIL $*@@"; }}
section() {{
  name=$1; shift
  read -r t0 _ </proc/uptime
  echo "{mark} BEGIN $name@@"
  "$@"
  rc=$?
  read -r t1 _ </proc/uptime
  echo "{mark} END $name rc=$rc t=$t0-${{t1}}s@@"
  return $rc
}}
mount -t sysfs sysfs /sys || fail "mount sysfs"
mkdir -p /sys/kernel/tracing /sys/kernel/debug /sys/fs/bpf /sys/fs/cgroup /tmp /run /dev/pts /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing || fail "mount tracefs"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf || fail "mount bpffs"
mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail "mount cgroup2"
echo +memory > /sys/fs/cgroup/cgroup.subtree_control || fail "enable the memory controller"
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm
ulimit -l unlimited 2>/dev/null
ifconfig lo 127.0.0.1 up || fail "lo up"
{insmods}
if [ -b /dev/ram1 ]; then
  mkswap /dev/ram1 >/dev/null && swapon /dev/ram1 || fail "swap on /dev/ram1"
else
  fail "no /dev/ram1 (brd)"
fi
echo 1 > /proc/sys/kernel/bpf_stats_enabled 2>/dev/null
{body}
echo "{mark} DONE@@"
sync
echo o > /proc/sysrq-trigger
sleep 5
"""


def kernels_arch(kernel):
    from . import kernels as kmod
    return kmod.arch_of(kernel.target)


def build(spec, kernel, out_path):
    """Write the initramfs for `kernel` (a kernels.Kernel) to out_path. Returns a list of notes."""
    from . import kernels as kmod
    c = Cpio()
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "lib", "lib64", "etc", "proc", "sys", "dev", "tmp",
              "run", "root", "boot", "mnt", "var/tmp"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3)
    arch = kernels_arch(kernel)
    c.copy(userland.busybox(arch, lambda m: None), "bin/busybox", 0o755)
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        c.symlink(a, "/bin/busybox")
    c.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644)
    c.file("etc/group", b"root:x:0:\n", 0o644)
    c.file("etc/hosts", b"127.0.0.1 localhost\n", 0o644)

    libs = set()  # (host file, path in the VM)
    for b in spec.bins:
        c.copy(b, "usr/bin/" + os.path.basename(b), 0o755)
        libs.update(userland.libraries(b, arch))
    for src, dst in spec.files:
        if os.path.isdir(src):
            for dirpath, _, files in os.walk(src):
                for n in files:
                    p = os.path.join(dirpath, n)
                    c.copy(p, os.path.join(dst, os.path.relpath(p, src)))
        else:
            c.copy(src, dst)
            if os.access(src, os.X_OK):
                libs.update(userland.libraries(src, arch))
    for host_file, lib in sorted(libs):
        c.copy(host_file, lib, 0o755)
        # Some binaries look the loader up under /lib64, some libs under /usr/lib: add both aliases.
        for alias in (lib.replace("/usr/lib/", "/lib/", 1), lib.replace("/lib/", "/usr/lib/", 1)):
            if alias != lib and alias.startswith("/"):
                c.symlink(alias, lib)

    modules = kmod.modules_with_deps(kernel, spec.modules)
    missing = [m for m in spec.modules if m not in {n for n, _ in modules}]
    for name, path in modules:
        c.copy(path, "lib/modules/%s/%s.ko" % (kernel.release, name), 0o644)
    c.copy(kernel.config, "boot/config-" + kernel.release, 0o644)
    c.file("cmd.sh", (spec.script + "\n").encode(), 0o755)
    c.file("init", init_script(spec, kernel.release, modules).encode(), 0o755)
    data = c.finish()
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gzip.compress(data, compresslevel=1))
    os.replace(tmp, out_path)
    return ["module %s not found (built in?)" % m for m in missing]


def clean_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)
