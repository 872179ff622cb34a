#!/usr/bin/env python3
"""fleethost tier: the project's .deb on a real Debian host run by systemd.

One boot per suite (bookworm: Debian 12, cloud kernel 6.1; trixie: Debian 13, cloud kernel 6.12),
under QEMU/TCG, of a cached root file system with systemd as PID 1 (image.py). The .deb is built
here with CPack from the build tree and handed to the guest on a second disk with guest.sh, whose
checks come back on the second serial port. Before booting, the .deb's dependencies are resolved
against the suite's archive from an empty root (apt-get --simulate, a private apt state), so the
package is known to install on a clean system of that release, not only on the prepared image.

Asserted (guest.sh, plus the comparisons here): dpkg -i succeeds with nothing missing; the unit is
active and READY within 30 s; the probe plan the daemon reports under the unit equals
`cowwatchd --probes --json` as root; the capability sets after attach are empty except the
bounding set, which is exactly the unit's CapabilityBoundingSet=; a member of cowwatch-cli can use
the CLI and a non-member is refused; no err-priority journal line from a normal start; a restart
leaves no cowwatch BPF program or link behind; a configuration that cannot work fails once and
stays failed with the reason in `systemctl status`; `dpkg --purge` leaves no file, unit or account.
Also: the online `systemd-analyze security` exposure is at most 2.0 with every hook attached; the
Debian package prometheus in the guest scrapes the unit and holds the copies of a workload
(tests/vm/workloads cwwl, the count from the workload's own report); an alert reaches the journal
with its structured fields; `systemctl reload` of a bad file keeps the running configuration;
`kill -9` is followed by a restart with the same plan; SIGTERM -> exit takes at most 1 s besides
the kernel's detach of the probes, which the daemon times and logs (at most 3 s in all; printed, the
goal is 100 ms); TLS with the key handed over by LoadCredential= serves an https scrape.
Printed: time to READY, exposure, stop time.

usage: fleethost.py --suite bookworm|trixie --build-dir BUILD [--save DIR]
Exit: 0 pass, 1 fail, 77 skip (not root, no QEMU or mmdebstrap, registry unreachable with nothing
cached) — except under CI=true, where a skip fails.
"""
import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "vm"))
sys.path.insert(0, os.path.join(REPO, "tests", "ecosystem"))
import image  # noqa: E402
from common import build_deb, require_file, require_root, require_tool, skip  # noqa: E402
from tls_material import bcrypt, make_ca, make_cert  # noqa: E402
from cowvm import initramfs, kernels  # noqa: E402

# suite -> kernel target of cowvm.kernels (its cached Debian cloud kernels and apt states)
SUITES = {"bookworm": "6.1", "trixie": "6.12"}
CHECKS = ["install", "enabled", "ready_30s", "capabilities_dropped", "no_err_journal",
          "no_eperm_journal", "security_exposure", "socket_owner", "cli_member", "cli_outsider_refused",
          "prometheus_copies", "reload_bad_keeps_old", "reload_good",
          "restart_no_leftover", "bad_config_fails_once", "bad_config_says_why", "recovers",
          "kill9_restarted", "stop_time", "tls_load_credential", "purge_clean"]
HOST_CHECKS = ["depends_resolve_clean_root", "plan_unit_equals_root", "bounding_set", "alert_journal",
               "plan_after_kill"]
VALUES = ["boot", "slowest_units", "install_s", "exec_to_ready_s", "exposure", "restart_s", "prometheus",
          "prometheus_ready_s", "prometheus_copies_s", "alert_journal_s", "kill9_running_again_s",
          "kill9_exec_to_ready_s", "stop_ms", "stop_detach_ms", "stop_split_ms", "purge_s"]
# Structured fields of an alert's journal entry (daemon/alerts/alert_log.cpp), each present once.
ALERT_FIELDS = ["MESSAGE", "PRIORITY", "COWWATCH_ALERT", "COWWATCH_ALERT_STATE", "COWWATCH_ALERT_SEVERITY",
                "COWWATCH_ALERT_SCOPE", "COWWATCH_ALERT_SUBJECT", "COWWATCH_ALERT_VALUE",
                "COWWATCH_ALERT_THRESHOLD", "COWWATCH_ALERT_STARTS_AT", "COWWATCH_ALERT_DESCRIPTION"]
VM_TIMEOUT_S = 600  # measured 190-270 s of VM wall (load ~9) before the Prometheus, alert, reload, kill -9,
# stop and TLS checks; with them 407 s at load 12
MARK = "@@FLEET"


def log(message):
    print("[fleethost %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def resolve_from_empty_root(target, deb):
    """apt-get --simulate install of the .deb against the suite's archive with nothing installed:
    (ok, packages apt would install, output)."""
    apt = kernels.AptState(target)
    apt.update(log)
    proc = subprocess.run(["apt-get", *apt.options(), "--simulate",
                           "--no-install-recommends", "install", deb], capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    installs = re.findall(r"^Inst (\S+)", out, re.M)
    return proc.returncode == 0 and "cowwatch" in installs, installs, out


def initrd_for(kernel, path):
    """busybox initramfs: load the virtio modules (modular in Debian's cloud kernels), mount
    /dev/vda and switch_root to systemd."""
    modules = kernels.modules_with_deps(kernel, ["virtio_pci", "virtio_blk"])
    insmods = "\n".join("insmod /modules/%s.ko || echo \"fleethost initramfs: insmod %s failed\"" % (n, n)
                        for n, _ in modules)
    init = """#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
%s
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "fleethost initramfs: cannot mount /dev/vda"; exec sh; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
""" % insmods
    c = initramfs.Cpio()
    for d in ("bin", "dev", "proc", "sys", "newroot", "modules"):
        c.dir(d)
    c.chardev("dev/console", 5, 1)
    c.copy(initramfs.BUSYBOX, "bin/busybox", 0o755)
    for applet in ("sh", "mount", "umount", "insmod", "sleep", "switch_root", "echo"):
        c.symlink("bin/" + applet, "/bin/busybox")
    for name, ko in modules:
        c.copy(ko, "modules/%s.ko" % name, 0o644)
    c.file("init", init.encode(), 0o755)
    with open(path, "wb") as f:
        f.write(gzip.compress(c.finish(), compresslevel=1))


def tls_material(d):
    """A CA, a server certificate for 127.0.0.1 and its key, a password and its bcrypt hash."""
    make_ca(d, "ca")
    make_cert(d, "server", "ca", server=True)
    password = "fleet-" + os.urandom(6).hex()
    for name, text in (("password", password), ("hash", bcrypt(password))):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    return {name: os.path.join(d, name) for name in ("ca.crt", "server.crt", "server.key", "password", "hash")}


def payload(deb, cwwl, tls, path):
    with tarfile.open(path, "w") as tar:
        tar.add(os.path.join(HERE, "guest.sh"), arcname="guest.sh")
        tar.add(deb, arcname="cowwatch.deb")
        tar.add(cwwl, arcname="cwwl")
        for name, file in tls.items():
            tar.add(file, arcname="tls/" + name)


def boot(kernel, disk, initrd, payload_tar, workdir):
    """Runs the VM to power-off (or the timeout). Returns (results text, console text, wall s)."""
    results, console = os.path.join(workdir, "results.log"), os.path.join(workdir, "console.log")
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max,-cx16", "-smp", "1", "-m", "1536",
           "-display", "none", "-no-reboot", "-monitor", "none", "-nic", "none",
           "-kernel", kernel.vmlinuz, "-initrd", initrd,
           "-append", "root=/dev/vda rw console=ttyS0 panic=-1 quiet loglevel=4",
           "-drive", "file=%s,format=raw,if=virtio,snapshot=on" % disk,
           "-drive", "file=%s,format=raw,if=virtio,readonly=on" % payload_tar,
           "-serial", "file:" + console, "-serial", "file:" + results]
    start = time.monotonic()
    try:
        subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=VM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log("VM did not power off within %d s" % VM_TIMEOUT_S)
    wall = time.monotonic() - start

    def read(path):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                return f.read().replace("\r", "")
        except OSError:
            return ""
    return read(results), read(console), wall


def parse(results):
    checks = {m.group(1): (m.group(2), m.group(3)) for m in
              re.finditer(re.escape(MARK) + r" CHECK (\S+) (PASS|FAIL) ?(.*?)@@", results, re.S)}
    values = dict(re.findall(re.escape(MARK) + r" VALUE (\S+) (.*?)@@", results))
    blocks = {m.group(1): m.group(2) for m in
              re.finditer(re.escape(MARK) + r" BEGIN (\S+)@@\n(.*?)" + re.escape(MARK) + r" END \1@@", results, re.S)}
    return checks, values, blocks


def plan_of(text):
    """(kernel release, [(hook, strategy, target, exact, accuracy)]) of a probe plan in JSON."""
    plan = json.loads(text[text.index("{"):])
    return plan["kernel_release"], [(h["hook"], h["strategy"], h["target"], h["exact"], h["accuracy"])
                                    for h in plan["hooks"]]


def compare_plans(blocks):
    try:
        unit, root = plan_of(blocks["plan_unit"]), plan_of(blocks["plan_root"])
    except (KeyError, ValueError) as e:
        return "FAIL", "a probe plan is missing or not JSON (%s)" % e
    hooks = ", ".join("%s=%s %s" % (h[0], h[1], h[2]) for h in unit[1])
    if unit != root:
        ladders = {}
        for name in ("plan_unit", "plan_root"):
            plan = json.loads(blocks[name][blocks[name].index("{"):])
            ladders[name] = {h["hook"]: h["ladder"] for h in plan["hooks"]}
        differ = [(a[0], ladders["plan_unit"].get(a[0]), ladders["plan_root"].get(a[0]))
                  for a, b in zip(unit[1], root[1]) if a != b]
        # Debian's kernel.perf_event_paranoid=3 lets only CAP_SYS_ADMIN open perf events: kprobe
        # rungs cannot attach under the unit (CAP_BPF/CAP_PERFMON only). The one difference
        # accepted: every differing hook keeps its chosen strategy and target, and its ladder
        # under the unit names that reason for a kprobe it could not attach.
        explained = all(
            u[:3] == r[:3] and any(rung["strategy"] == "kprobe" and "perf_event_paranoid" in rung["outcome"]
                                   for rung in ladders["plan_unit"].get(u[0], []))
            for u, r in zip(unit[1], root[1]) if u != r)
        if unit[0] == root[0] and explained:
            return "PASS", "%d hooks, same rungs on %s: %s; kprobe side rungs refused under the unit only " \
                "(perf_event_paranoid, see the ladder): %s" % (len(unit[1]), unit[0], hooks,
                                                              [(d[0], d[1]) for d in differ])
        return "FAIL", "differing hooks (hook, ladder under the unit, ladder as root): %s" % differ
    return "PASS", "%d hooks identical on %s: %s" % (len(unit[1]), unit[0], hooks)


def compare_plan_after_kill(blocks):
    try:
        before, after = plan_of(blocks["plan_unit"]), plan_of(blocks["plan_after_kill"])
    except (KeyError, ValueError) as e:
        return "FAIL", "a probe plan is missing or not JSON (%s)" % e
    if before != after:
        return "FAIL", "plan before the kill %s, after the restart %s" % (before, after)
    return "PASS", "after kill -9 and systemd's restart the daemon attached the same %d hooks" % len(after[1])


def workload_field(line, key):
    found = re.search(r"(?:^|\s)%s=(\S+)" % re.escape(key), line or "")
    return found.group(1) if found else None


def check_alert_journal(blocks, values):
    """The firing fork_with_pins entry of `journalctl -o json` after `cwwl iouring_fork`: every
    field once, from the unit, with the values the rule and the workload's own report imply."""
    entries = []
    for line in blocks.get("alert_journal", "").splitlines():
        if line.startswith("{"):
            try:
                entries.append(json.loads(line))
            except ValueError:
                pass
    firing = [e for e in entries if e.get("COWWATCH_ALERT_STATE") == "firing"]
    wl = values.get("workload_iouring_fork", "")
    copied = workload_field(wl, "copied_at_fork")
    if not firing:
        return "FAIL", "no firing fork_with_pins entry in the journal (%d entries); cwwl: %s" % (len(entries), wl)
    e = firing[0]
    problems = ["%s missing" % f for f in ALERT_FIELDS if f not in e]
    problems += ["%s repeated: %s" % (f, e[f]) for f in ALERT_FIELDS if isinstance(e.get(f), list)]
    expected = {"_SYSTEMD_UNIT": "cowwatch.service", "SYSLOG_IDENTIFIER": "cowwatchd", "PRIORITY": "4",
                "COWWATCH_ALERT": "fork_with_pins", "COWWATCH_ALERT_SEVERITY": "warning",
                "COWWATCH_ALERT_SCOPE": "process", "COWWATCH_ALERT_THRESHOLD": "1"}
    problems += ["%s=%r, expected %r" % (k, e.get(k), v) for k, v in expected.items() if e.get(k) != v]
    if "wl_pin_parent" not in str(e.get("COWWATCH_ALERT_SUBJECT")):
        problems.append("subject %r is not the forking workload wl_pin_parent" % e.get("COWWATCH_ALERT_SUBJECT"))
    try:
        if copied is None or float(e.get("COWWATCH_ALERT_VALUE")) != float(copied):
            problems.append("value %r, the workload saw %s pages copied at fork" % (e.get("COWWATCH_ALERT_VALUE"), copied))
    except (TypeError, ValueError):
        problems.append("value %r is not a number" % e.get("COWWATCH_ALERT_VALUE"))
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", str(e.get("COWWATCH_ALERT_STARTS_AT"))):
        problems.append("starts_at %r is not RFC 3339 UTC with ms" % e.get("COWWATCH_ALERT_STARTS_AT"))
    if not str(e.get("MESSAGE", "")).startswith("alert fork_with_pins firing for "):
        problems.append("MESSAGE %r" % e.get("MESSAGE"))
    if not e.get("COWWATCH_ALERT_DESCRIPTION"):
        problems.append("empty description")
    if problems:
        return "FAIL", "; ".join(problems)
    return "PASS", "PRIORITY 4, %s: subject %s, value %s = the workload's copied_at_fork, threshold 1, " \
        "starts_at %s; fields %s" % (e["MESSAGE"][:60], e["COWWATCH_ALERT_SUBJECT"], e["COWWATCH_ALERT_VALUE"],
                                    e["COWWATCH_ALERT_STARTS_AT"], " ".join(f for f in sorted(e) if f.startswith("COWWATCH_")))


def unit_bounding_set():
    """The unit's CapabilityBoundingSet= as the kernel's CapBnd hex mask (bits from linux/capability.h)."""
    with open(os.path.join(REPO, "packaging/systemd/cowwatch.service"), encoding="utf-8") as f:
        names = re.search(r"^CapabilityBoundingSet=(.*)$", f.read(), re.M).group(1).split()
    with open("/usr/include/linux/capability.h", encoding="utf-8") as f:
        bits = dict(re.findall(r"^#define (CAP_[A-Z_]+)\s+(\d+)\s*$", f.read(), re.M))
    return "%016x" % sum(1 << int(bits[n]) for n in names), names


def compare_bounding_set(blocks):
    found = re.search(r"^CapBnd:\s*([0-9a-f]+)", blocks.get("capabilities", ""), re.M)
    expected, names = unit_bounding_set()
    if not found or found.group(1) != expected:
        return "FAIL", "CapBnd %s, the unit's CapabilityBoundingSet= is %s (%s)" % (
            found.group(1) if found else "missing", expected, " ".join(names))
    return "PASS", "CapBnd %s = %s (the unit's CapabilityBoundingSet=)" % (expected, " ".join(names))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", choices=sorted(SUITES), required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--save", help="keep the serial logs and the .deb in this directory")
    args = parser.parse_args()
    require_root("booting a VM with the .deb and building Debian root file systems")
    for tool in ("qemu-system-x86_64", "mmdebstrap", "mkfs.ext4", "apt-get"):
        require_tool(tool)
    require_tool("openssl")
    cwwl = require_file(os.path.join(args.build_dir, "tests", "vm", "cwwl"), "the workload binary (target cwwl)")
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="cw-fleet-")
    try:
        os.makedirs(os.path.join(workdir, "tls"))
        tls = tls_material(os.path.join(workdir, "tls"))
        deb = build_deb(args.build_dir, os.path.join(workdir, "deb"))
        target = SUITES[args.suite]
        try:
            kernel, notes = kernels.fetch_or_cached(target, log)
        except kernels.RegistryError as e:
            skip("no %s kernel: %s" % (target, e))
        for note in notes:
            log(note)
        try:
            resolved, installs, out = resolve_from_empty_root(target, deb)
        except kernels.RegistryError as e:
            skip("no %s package lists: %s" % (args.suite, e))
        log("dependencies from an empty %s root: %s" % (args.suite, " ".join(installs) if resolved else out[-2000:]))
        try:
            disk, note = image.ensure(args.suite, log)
        except RuntimeError as e:  # mmdebstrap: most likely the registry is unreachable
            skip(str(e))
        log(note)
        initrd = os.path.join(workdir, "initrd.gz")
        initrd_for(kernel, initrd)
        payload_tar = os.path.join(workdir, "payload.tar")
        payload(deb, cwwl, tls, payload_tar)
        log("booting %s with kernel %s" % (os.path.basename(disk), kernel.release))
        results, console, wall = boot(kernel, disk, initrd, payload_tar, workdir)
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            for name in ("results.log", "console.log"):
                shutil.copy(os.path.join(workdir, name), os.path.join(args.save, "%s-%s" % (args.suite, name)))
            shutil.copy(deb, args.save)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    checks, values, blocks = parse(results)
    checks["depends_resolve_clean_root"] = ("PASS" if resolved else "FAIL",
                                           "apt-get --simulate from an empty %s root installs %d packages"
                                           % (args.suite, len(installs)))
    checks["plan_unit_equals_root"] = compare_plans(blocks)
    checks["bounding_set"] = compare_bounding_set(blocks)
    checks["alert_journal"] = check_alert_journal(blocks, values)
    checks["plan_after_kill"] = compare_plan_after_kill(blocks)
    print("\n==== fleethost %s: %s" % (args.suite, values.get("guest", "guest never reported")))
    for name in VALUES:
        print("  %-22s %s" % (name, values.get(name, "-")))
    print("  %-22s %.0f s (whole VM run, TCG)" % ("vm_wall", wall))
    print("numbers %s: time to READY %s s (ExecStart -> READY=1), exposure %s (systemd-analyze security, "
          "online), stop %s ms (SIGTERM -> exited; the kernel's detach %s ms of it)" % (
              args.suite, values.get("exec_to_ready_s", "-"), values.get("exposure", "-"), values.get("stop_ms", "-"),
              values.get("stop_detach_ms", "-")))
    for name in ("status_bad_config", "capabilities", "security"):
        if name in blocks:
            print("---- %s\n%s" % (name, blocks[name].rstrip()))
    failed = []
    for name in [*CHECKS, *HOST_CHECKS]:
        verdict, detail = checks.get(name, ("FAIL", "not reported by the guest"))
        print("%s %-28s %s" % (verdict, name, detail.strip()))
        if verdict != "PASS":
            failed.append(name)
    print("fleethost %s: %d checks, %d failed, %.0f s in all" % (
        args.suite, len(CHECKS) + len(HOST_CHECKS), len(failed), time.monotonic() - started))
    if failed:
        for name in ("dpkg_install", "journal_start", "alert_journal", "journal_stop", "journal_tls"):
            if name in blocks:
                print("---- %s\n%s" % (name, blocks[name].rstrip()[-3000:]))
        if MARK + " DONE@@" not in results:
            print("---- guest results (tail)\n%s\n---- console (tail)\n%s" % (
                results[-3000:], "\n".join(console.splitlines()[-40:])))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
