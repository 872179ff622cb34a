"""Run one VM: build the initramfs, boot it under QEMU (TCG) with a timeout, and split the serial
console into sections (protocol in initramfs.py).

Failure classes (Result.failure_kind):
  before_init   the kernel never reached /init (panic/double fault under emulation, bad image):
                retried once, and for the newest kernel, a fallback to the newest cached kernel that
                did boot (reported as such)
  timeout       the VM did not power off within the timeout
  incomplete    /init started but DONE never came (kernel crash during the run)
"""

import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from . import initramfs, kernels

QEMU = "qemu-system-x86_64"
QEMU_ARGS = ["-m", "1024", "-smp", "1", "-cpu", "max,-cx16", "-nographic", "-no-reboot"]
APPEND = "console=ttyS0 quiet panic=-1 oops=panic rdinit=/init"
# Per Debian architecture of the kernel: (emulator, arguments, kernel command line). arm64: the
# `virt` machine with a PL011 console; pauth-impdef=on makes pointer authentication cheap under TCG.
MACHINES = {
    "amd64": (QEMU, QEMU_ARGS, APPEND),
    "arm64": ("qemu-system-aarch64",
              ["-M", "virt", "-cpu", "max,pauth-impdef=on", "-m", "1024", "-smp", "1", "-nic", "none",
               "-nographic", "-no-reboot"],
              "console=ttyAMA0 quiet panic=-1 oops=panic rdinit=/init"),
}
MARK = initramfs.MARK
SECTION_RE = re.compile(re.escape(MARK) + r" BEGIN (\S+)@@\r?\n(.*?)" + re.escape(MARK)
                        + r" END \1 rc=(-?\d+)(?: t=([\d.]+)-([\d.]+)s)?@@", re.S)


class QemuMissing(Exception):
    pass


@dataclass
class Result:
    kernel: object
    console: str = ""
    wall: float = 0.0
    failure: str = ""            # "" when the run completed
    failure_kind: str = ""       # before_init | timeout | incomplete | ""
    attempts: int = 1
    notes: list = field(default_factory=list)
    sections: dict = field(default_factory=dict)    # name -> text
    section_rc: dict = field(default_factory=dict)  # name -> exit status
    section_time: dict = field(default_factory=dict)  # name -> (guest uptime at start, duration) s

    @property
    def rc(self):
        return self.section_rc.get("cmd")

    @property
    def ok(self):
        return not self.failure

    def console_tail(self, lines=40):
        return "\n".join(self.console.replace("\r", "").splitlines()[-lines:])

    def setup_failures(self):
        return re.findall(re.escape(MARK) + r" SETUP-FAIL (.*?)@@", self.console)


def emulator(target=None):
    """The QEMU binary a kernel target boots under."""
    return MACHINES[kernels.arch_of(target)][0] if target else QEMU


def qemu_available(target=None):
    return shutil.which(emulator(target)) is not None


def kernel_for(target, log):
    """(Kernel, notes) for a target; newest falls back to cached when the registry is unreachable."""
    return kernels.fetch_or_cached(target, log)


def _parse(result):
    text = result.console.replace("\r\n", "\n")
    for m in SECTION_RE.finditer(text):
        result.sections[m.group(1)] = m.group(2)
        result.section_rc[m.group(1)] = int(m.group(3))
        if m.group(4):
            result.section_time[m.group(1)] = (float(m.group(4)), float(m.group(5)) - float(m.group(4)))
    reached_init = (MARK + " INIT@@") in text
    done = (MARK + " DONE@@") in text
    if not reached_init:
        result.failure_kind = "before_init"
        panic = re.search(r"(Kernel panic[^\n]*|double fault[^\n]*|BUG:[^\n]*)", text)
        last = [l.strip() for l in text.splitlines() if l.strip()][-1:]
        why = panic.group(1).strip() if panic else "no panic message; last console line: %r" % (
            last[0][:160] if last else "")
        if result.failure:  # timed out
            why = result.failure + "; " + why
        result.failure = "kernel did not reach /init (%s)" % why
    elif not done and not result.failure:
        result.failure_kind = "incomplete"
        oops = re.search(r"(Kernel panic[^\n]*|BUG:[^\n]*|Oops[^\n]*|double fault[^\n]*)", text)
        result.failure = "/init did not finish (%s)" % (oops.group(1).strip() if oops else "no oops message")


INIT_TIMEOUT_S = 60.0  # a kernel that has not started /init by then is stuck (kernel time is ~2.5 s)


def _collect(proc, result, start, timeout):
    """Read the console until QEMU exits; kill it on the overall timeout, or when /init has not
    started within INIT_TIMEOUT_S."""
    chunks, seen_init, tail = [], False, b""
    marker = (MARK + " INIT@@").encode()
    fd = proc.stdout.fileno()
    while True:
        elapsed = time.monotonic() - start
        limit = timeout if seen_init else min(timeout, INIT_TIMEOUT_S)
        if elapsed >= limit:
            proc.kill()
            result.failure_kind = "timeout"
            result.failure = "VM timed out after %.0f s" % elapsed
            break
        ready, _, _ = select.select([fd], [], [], min(1.0, limit - elapsed))
        if ready:
            data = os.read(fd, 65536)
            if not data:
                break
            chunks.append(data)
            tail = (tail + data)[-256:]  # the marker may arrive split over several reads
            if not seen_init and marker in tail:
                seen_init = True
    rest = proc.stdout.read() or b""
    proc.wait()
    return b"".join(chunks) + rest


# Guest time counts guest instructions (1 ns each) instead of following the host's clock: the
# benchmarks' figures then do not move with the load of a shared host (`vm.py shell --icount`).
ICOUNT_ARGS = ["-icount", "shift=0,sleep=off"]


def boot_once(kernel, spec, timeout, log, workdir=None, extra_args=()):
    qemu, qemu_args, append = MACHINES[kernels.arch_of(kernel.target)]
    if shutil.which(qemu) is None:
        raise QemuMissing("%s not found in PATH" % qemu)
    own_dir = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="cowvm-")
    try:
        initrd = os.path.join(workdir, "initrd.gz")
        notes = initramfs.build(spec, kernel, initrd)
        cmd = [qemu, *qemu_args, *extra_args, "-kernel", kernel.vmlinuz, "-initrd", initrd, "-append", append]
        log("booting %s (%s, initrd %.1f MB)" % (kernel.release, kernel.name, os.path.getsize(initrd) / 1e6))
        start = time.monotonic()
        result = Result(kernel=kernel, notes=notes)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = _collect(proc, result, start, timeout)
        result.wall = time.monotonic() - start
        result.console = out.decode("utf-8", "replace")
        _parse(result)
        if (MARK + " INIT@@") in result.console:
            kernel.mark_booted()
        return result
    finally:
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)


def boot(kernel, spec, timeout, log, extra_args=()):
    """Boot once; retry ONCE only if the kernel died before /init started."""
    result = boot_once(kernel, spec, timeout, log, extra_args=extra_args)
    if result.failure_kind == "before_init":
        log("%s died before /init: %s — retrying once" % (kernel.release, result.failure))
        first = result
        result = boot_once(kernel, spec, timeout, log, extra_args=extra_args)
        result.attempts = 2
        result.notes.append("first boot died before /init: %s" % first.failure)
    return result


def boot_with_fallback(kernel, spec, timeout, log, allow_fallback, extra_args=()):
    """boot(); for the newest kernel, fall back to the newest cached kernel that did boot when this one
    dies before /init twice (a kernel/emulator problem outside the project)."""
    result = boot(kernel, spec, timeout, log, extra_args)
    if result.failure_kind != "before_init" or not allow_fallback:
        return result
    for other in kernels.cached(kernel.target):
        if other.name != kernel.name and other.has_booted():
            log("NEWEST KERNEL %s FAILED BEFORE /init (%s); falling back to %s, which booted before"
                % (kernel.release, result.failure, other.release))
            fb = boot(other, spec, timeout, log, extra_args)
            fb.notes.insert(0, "newest kernel %s failed before /init (%s); fell back to %s"
                            % (kernel.release, result.failure, other.release))
            return fb
    result.notes.append("newest kernel failed before /init and no cached kernel of this target booted before")
    return result
