#!/usr/bin/env python3
"""Boot Debian kernels under QEMU with a busybox initramfs (see tests/vm/README.md).

  vm.py fetch [--target 6.1 --target 6.12 --target newest]
  vm.py shell --kernel {6.1,6.12,newest} --bin PATH [--bin PATH ...] [--file SRC:DST ...] --run 'CMD'
  vm.py test  --kernel {6.1,6.12,newest} --cwwl PATH [--daemon PATH] [--cli PATH]   (the ctest VM tier)
  vm.py test  --host --cwwl PATH --daemon PATH                          (the same on the host kernel)

Exit status of `test`: 0 pass, 1 fail, 77 skipped (qemu or the registry unreachable and nothing
cached, or not root on the host) — except with CI=true, where a skip is a failure (1).
"""

import argparse
import os
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean (ctest runs this from the clone)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import expectations  # noqa: E402
from cowvm import kernels, initramfs, qemu, suite  # noqa: E402

SKIP = 77


def log(msg):
    print("[vm] " + msg, file=sys.stderr, flush=True)


def cmd_fetch(args):
    status = 0
    for target in args.target or list(kernels.TARGETS):
        try:
            k, notes = kernels.fetch(target, log, force_update=args.update)
        except kernels.RegistryError as e:
            cached = kernels.cached(target)
            log("%s: registry error: %s" % (target, e))
            if cached:
                print("%s\t%s\t%s\t(cached)" % (target, cached[0].release, cached[0].vmlinuz))
                continue
            status = SKIP
            continue
        for n in notes:
            log("%s: %s" % (target, n))
        print("%s\t%s\t%s\tconfig=%s\t%s" % (target, k.release, k.vmlinuz, k.config,
                                              "booted-ok" if k.has_booted() else "not-yet-booted"))
    return status


def _parse_files(specs):
    files = []
    for spec in specs or []:
        src, sep, dst = spec.partition(":")
        if not sep or not dst.startswith("/"):
            raise SystemExit("--file wants SRC:/ABS/DST, got %r" % spec)
        files.append((src, dst))
    return files


def cmd_shell(args):
    try:
        kernel, notes = qemu.kernel_for(args.kernel, log)
    except kernels.RegistryError as e:
        log("SKIP: registry unreachable and nothing cached: %s" % e)
        return SKIP
    for n in notes:
        log(n)
    spec = initramfs.Spec(bins=args.bin or [], files=_parse_files(args.file),
                          script=args.run, modules=initramfs.DEFAULT_MODULES + (args.module or []))
    result = qemu.boot_with_fallback(kernel, spec, timeout=args.timeout, log=log,
                                     allow_fallback=(args.kernel == "newest"),
                                     extra_args=qemu.ICOUNT_ARGS if args.icount else ())
    if result.kernel is not kernel:
        log("NOTE: ran on fallback kernel %s" % result.kernel.release)
    section = result.sections.get("cmd")
    if section is None:
        log("FAILED: %s" % result.failure)
        log("kernel %s; console tail:\n%s" % (result.kernel.release, result.console_tail(60)))
        return 2 if result.rc is None else result.rc
    print("===== %s: output of %r =====" % (result.kernel.release, args.run))
    sys.stdout.write(section)
    print("===== end (exit %s, %.1fs wall) =====" % (result.rc, result.wall))
    if args.console:
        log("console:\n" + result.console)
    return result.rc if result.rc is not None else 2


def skip(reason):
    """Exit status for a skipped tier: 77, or a failure when CI=true (CI must run this tier)."""
    if os.environ.get("CI") == "true":
        print("FAIL: CI=true and the VM tier would be skipped: %s" % reason)
        return 1
    print("SKIP: %s" % reason)
    return SKIP


def _report_failure_context(data, result=None, tail=60):
    if data is not None:
        print("--- kernel: %s" % data.release)
        if data.series is not None:
            plan = [l for l in suite.format_probe_info(data.series)]
            print("--- probe plan (cowwatch_probe_info):\n" + ("\n".join(plan) or "(no cowwatch_probe_info series)"))
        if data.probes_text:
            print("--- cowwatchd --probes:\n" + data.probes_text.rstrip())
        if data.daemon_log:
            print("--- daemon log (tail):\n" + "\n".join(data.daemon_log.splitlines()[-40:]))
    if result is not None:
        print("--- console tail (%s):\n%s" % (result.kernel.release, result.console_tail(tail)))


def _save(directory, console, sections):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "console.log"), "w") as f:
        f.write(console)
    for name, text in sections.items():
        with open(os.path.join(directory, name + ".txt"), "w") as f:
            f.write(text)
    log("console and sections saved in %s" % directory)


# The daemon's configuration in the VM: the shipped rules (config/cowwatch.yaml; alerts.rules
# replaces the whole list, so they are taken from there) plus the rules the table asserts.
HERE = os.path.dirname(os.path.abspath(__file__))
VM_EXTRA_RULES = os.path.join(HERE, "vm-extra-rules.yaml")
SHIPPED_CONFIG = os.path.join(HERE, "..", "..", "config", "cowwatch.yaml")


def write_vm_config(path):
    with open(SHIPPED_CONFIG) as f:
        shipped = f.read()
    with open(VM_EXTRA_RULES) as f:
        extra = f.read()
    with open(path, "w") as f:
        f.write("alerts:\n" + shipped[shipped.index("\n  rules:") + 1:].rstrip("\n") + "\n" + extra)
    return path


def cmd_test(args):
    workloads = args.workload or expectations.WORKLOADS
    with_daemon = bool(args.daemon)
    if with_daemon and not os.path.exists(args.daemon):
        print("FAIL: daemon binary %s does not exist" % args.daemon)
        return 1
    result = None
    if args.verifier and (args.host or not os.path.exists(args.verifier)):
        print("FAIL: --verifier %s: %s" % (args.verifier, "not with --host (the bpf tier runs it on the host)"
                                           if args.host else "no such file"))
        return 1
    if args.unit_privileges and (args.host or kernels.arch_of(args.kernel) != "amd64"):
        print("FAIL: --unit-privileges: the VM gets this host's setpriv, so x86-64 VM kernels only")
        return 1
    if args.host:
        if os.geteuid() != 0:
            return skip("the host-kernel test needs root (BPF, io_uring pins, /proc/vmstat deltas)")
        if not with_daemon:
            return skip("the host-kernel test needs --daemon")
        try:
            sections, notes = suite.host_run(args.cwwl, args.daemon, workloads, expectations.N, log)
        except RuntimeError as e:
            print("FAIL: %s" % e)
            return 1
        release = os.uname().release
        if args.save:
            _save(args.save, "", sections)
    else:
        if not qemu.qemu_available(args.kernel):
            return skip("%s not installed" % qemu.emulator(args.kernel))
        try:
            kernel, notes = qemu.kernel_for(args.kernel, log)
        except kernels.RegistryError as e:
            return skip("Debian registry unreachable and no cached %s kernel: %s" % (args.kernel, e))
        script = suite.vm_script(workloads, expectations.N, with_daemon, args.probes,
                                 cli_run="short_lived" if args.cli else None,
                                 hide_kallsyms=args.hide_kallsyms, unit_privileges=args.unit_privileges)
        if args.verifier:  # last, in the same boot: the workloads run on a freshly booted kernel, as
            # without it, and the daemon has stopped (nothing of ours is loaded)
            script += "section verifier %s --gtest_brief=1\n" % os.path.basename(args.verifier)
        spec = initramfs.Spec(bins=[args.cwwl] + ([args.daemon] if with_daemon else []) + ([args.cli] if args.cli else [])
                              + ([args.verifier] if args.verifier else [])
                              + ([suite.SETPRIV] if args.unit_privileges else []),
                              files=[(write_vm_config(os.path.join(tempfile.mkdtemp(prefix="cowvm-"), "cowwatch.yaml")),
                                      "/etc/cowwatch/cowwatch.yaml")] if with_daemon else [],
                              script=script, script_is_init_body=True)
        result = qemu.boot_with_fallback(kernel, spec, timeout=args.timeout, log=log,
                                         allow_fallback=(args.kernel == "newest"),
                                         extra_args=qemu.ICOUNT_ARGS if args.icount else ())
        notes = notes + result.notes
        release = result.kernel.release
        if result.failure:
            print("FAIL: kernel %s: %s (%d attempt(s), %.0f s)" % (release, result.failure, result.attempts,
                                                                   result.wall))
            for n in notes:
                print("note: " + n)
            data = suite.run_data_from_sections(release, result.sections, workloads, with_daemon)
            _report_failure_context(data, result)
            return 1
        sections = result.sections
        log("kernel %s: VM ran %.1f s; guest seconds per step: %s" % (release, result.wall, " ".join(
            "%s=%.1f" % (n, d) for n, (_, d) in result.section_time.items() if d >= 0.5)))
        if args.save:
            _save(args.save, result.console, sections)
    for n in notes:
        print("note: " + n)
    data = suite.run_data_from_sections(release, sections, workloads, with_daemon)
    problems = []
    for w in workloads:
        res = data.results.get(w)
        if res is None or res.get("status") != "ok":
            problems.append("workload %s: %s" % (w, res.get("error", res.get("status")) if res else
                                                 "no result line:\n" + sections.get("wl_" + w, "(no section)")))
    if result is not None:
        problems += ["setup step failed in /init: %s" % f for f in result.setup_failures()]
    if args.verifier and result is not None:
        print("===== %s: every BPF program through this kernel's verifier (%s) =====" % (
            release, os.path.basename(args.verifier)))
        sys.stdout.write(sections.get("verifier", "(no output)"))
        if result.section_rc.get("verifier", 1) != 0:
            problems.append("verifier: %s exited with %s" % (os.path.basename(args.verifier),
                                                             result.section_rc.get("verifier", "no status")))
    if args.unit_privileges and args.probes and "kprobe do_wp_page: ok" in sections.get("probes", "") \
            and "kprobe_multi links" not in sections.get("probes", ""):
        problems.append("unit privileges: the kprobe rung attached without kprobe_multi links, though "
                        "perf_event_paranoid=3 refuses perf kprobe events")
    if with_daemon:
        for name in ("daemon_up", "settle"):
            if result is not None and result.section_rc.get(name, 1) != 0:
                problems.append("%s: %s" % (name, sections.get(name, "(missing)").strip()))
        if not args.host and not sections.get("metrics", "").strip():
            problems.append("no metrics were scraped")
    outcomes = suite.evaluate(expectations.ROWS, data, workloads, host=args.host,
                              hook_of_metric=expectations.HOOK_OF_METRIC)
    if args.cli and not args.host:
        outcomes += suite.check_cli_run(sections.get("cli_run", ""), release)
    print("kernel %s%s, N=%d, daemon: %s" % (release, " (host)" if args.host else "", expectations.N,
                                             args.daemon or "none (workload observations only)"))
    print(suite.format_outcomes(outcomes))
    for w in workloads:
        if w in data.results:
            print("result %s" % " ".join("%s=%s" % kv for kv in data.results[w].items()))
        d = data.vmstat.get(w, {})
        print("vmstat delta around %s (/init): %s" % (w, " ".join(
            "%s=%s" % (k, d.get(k)) for k in ("pgreuse", "pswpout", "nr_foll_pin_acquired", "pgfault"))))
    if data.series is not None:
        losses = ["%s=%d" % (labels.get("cause"), value) for name, labels, value in data.series
                  if name == "cowwatch_events_dropped_total" and value]
        misses = ["%s=%d" % (labels.get("prog"), value) for name, labels, value in data.series
                  if name == "cowwatch_bpf_misses_total" and value]
        print("losses the daemon counted: %s" % (" ".join(losses) or "none"))
        skipped = ["%s=%d" % (w, n) for w, n in data.fault_misses.items() if n]
        if data.fault_misses:
            print("fault-program runs the kernel skipped, per workload: %s" % (" ".join(skipped) or "none"))
        if misses:
            print("runs skipped, per program: %s" % " ".join(misses))
    failed = [o for o in outcomes if o.status == "FAIL"]
    pending = [o for o in outcomes if o.status in ("PENDING", "XPASS")]
    print("summary: %d pass, %d fail, %d pending/xpass, %d skipped; %d other problem(s)" % (
        sum(o.status == "PASS" for o in outcomes), len(failed), len(pending),
        sum(o.status == "SKIP" for o in outcomes), len(problems)))
    for p in problems:
        print("PROBLEM: " + p)
    if failed or problems:
        _report_failure_context(data, result)
        return 1
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="download/cache kernels and print their paths")
    f.add_argument("--target", action="append", choices=list(kernels.TARGETS))
    f.add_argument("--update", action="store_true", help="refresh apt lists even if fresh")
    s = sub.add_parser("shell", help="boot a kernel and run one shell command in it")
    s.add_argument("--kernel", required=True, choices=list(kernels.TARGETS))
    s.add_argument("--bin", action="append", help="binary to put in /usr/bin (with its shared libs)")
    s.add_argument("--file", action="append", help="SRC:/ABS/DST extra file (dirs copied recursively)")
    s.add_argument("--module", action="append", help="extra kernel module to insmod (brd is always loaded)")
    s.add_argument("--run", required=True, help="command run under /bin/sh in the VM")
    s.add_argument("--timeout", type=float, default=180.0, help="VM wall-clock timeout, seconds")
    s.add_argument("--console", action="store_true", help="also print the whole serial console")
    s.add_argument("--icount", action="store_true",
                   help="guest time counts guest instructions (QEMU -icount shift=0: 1 ns each), so timings "
                        "do not move with the host's load (the benchmarks use it)")
    t = sub.add_parser("test", help="run the workloads and check expectations.py (ctest VM tier)")
    where = t.add_mutually_exclusive_group(required=True)
    where.add_argument("--kernel", choices=list(kernels.TARGETS))
    where.add_argument("--host", action="store_true", help="run on the host kernel (no VM)")
    t.add_argument("--cwwl", required=True, help="the workload binary (static)")
    t.add_argument("--daemon", help="cowwatchd; without it only workload observations are checked")
    t.add_argument("--workload", action="append", help="run only these workloads (default: all)")
    t.add_argument("--cli", help="cowwatch (the CLI): also checks `cowwatch run --json -- cwwl short_lived` "
                                 "against the workload's own observations")
    t.add_argument("--unit-privileges", action="store_true",
                   help="run the daemon as the systemd unit does: uid 65534 with CAP_BPF, CAP_PERFMON and "
                        "CAP_DAC_READ_SEARCH only (util-linux setpriv), kernel.perf_event_paranoid=3 (Debian)")
    t.add_argument("--icount", action="store_true",
                   help="guest time counts guest instructions (QEMU -icount shift=0): a guest's ticks, and so "
                        "where preemption lands, do not follow the host's load")
    t.add_argument("--verifier", metavar="BIN",
                   help="bpf_verifier_test: run it last in the same boot (every program through this kernel's verifier)")
    t.add_argument("--timeout", type=float, default=200.0, help="VM wall-clock timeout, seconds")
    t.add_argument("--save", metavar="DIR", help="save the console and every section to DIR")
    t.add_argument("--probes", action="store_true", help="also run `cowwatchd --probes` in the VM (+20-30 s)")
    t.add_argument("--hide-kallsyms", action="store_true",
                   help="an empty /proc/kallsyms for the daemon, as under the shipped systemd unit")
    args = p.parse_args(argv)
    return {"fetch": cmd_fetch, "shell": cmd_shell, "test": cmd_test}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
