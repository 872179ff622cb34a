#!/usr/bin/env python3
"""The shipped systemd units: `systemd-analyze security --offline=yes` exposure score within
budget (printed), `systemd-analyze verify` clean apart from the binary not being installed on
this machine, and the directives the deployment relies on present: in cowwatch.service, and in
cowwatch.socket beside it (the control socket: the configuration's default path, group
cowwatch-cli, the group the package's sysusers.d file creates).

usage: test_unit_security.py UNIT_FILE [MAX_EXPOSURE=2.0]
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fail, require_tool, run  # noqa: E402

REQUIRED = {
    "Type": "notify",
    "ExecReload": "/bin/sh -c 'kill -HUP ${MAINPID}'",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "NoNewPrivileges": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "Requires": "cowwatch.socket",
    # A configuration that cannot work (exit 2) is not restarted; nothing else retries forever.
    "RestartPreventExitStatus": "2",
    "StartLimitBurst": "5",
    "CapabilityBoundingSet": "CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH",
    "AmbientCapabilities": "CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH",
}


SOCKET_REQUIRED = {
    "SocketUser": "root",
    "SocketGroup": "cowwatch-cli",
    "SocketMode": "0660",
}


def directives(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")) and "=" in line:
                key, value = line.split("=", 1)
                values.setdefault(key.strip(), []).append(value.strip())
    return values


# System calls the daemon cannot work without, and the unit's filter must let through.
NEEDED_SYSCALLS = ("bpf", "perf_event_open", "capset", "mmap", "epoll_wait", "accept4", "connect")


def expand_syscall_group(analyze, name, cache):
    """The system calls in a systemd syscall group (@name), nested groups expanded."""
    if name in cache:
        return cache[name]
    result = run([analyze, "syscall-filter", "--no-pager", name])
    if result.returncode != 0:
        fail(f"systemd-analyze syscall-filter {name}: {result.stderr}")
    calls = set()
    for line in result.stdout.splitlines()[1:]:
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        calls |= expand_syscall_group(analyze, token, cache) if token.startswith("@") else {token}
    cache[name] = calls
    return calls


def allowed_syscalls(analyze, filters):
    """Applies SystemCallFilter= lines in order: the first allow list, minus ~deny lists."""
    cache = {}
    allowed = None
    for line in filters:
        deny = line.startswith("~")
        names = line.lstrip("~").split()
        calls = set()
        for name in names:
            calls |= expand_syscall_group(analyze, name, cache) if name.startswith("@") else {name}
        if not deny:
            allowed = (allowed or set()) | calls
        elif allowed is not None:
            allowed -= calls
    return allowed


def main():
    unit = os.path.abspath(sys.argv[1])
    budget = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    analyze = require_tool("systemd-analyze")

    found = directives(unit)
    for key, value in REQUIRED.items():
        if value not in found.get(key, []):
            fail(f"{os.path.basename(unit)}: expected {key}={value}, found {found.get(key)}")
    for key in ("WatchdogSec", "SystemCallFilter"):
        if key not in found:
            fail(f"{os.path.basename(unit)}: {key}= missing")
    if "ExecStartPre" in found:
        fail("ExecStartPre= is back: RestartPreventExitStatus= does not cover it (restart loop)")

    socket_unit = os.path.join(os.path.dirname(unit), "cowwatch.socket")
    sock = directives(socket_unit)
    for key, value in SOCKET_REQUIRED.items():
        if value not in sock.get(key, []):
            fail(f"cowwatch.socket: expected {key}={value}, found {sock.get(key)}")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(unit)))
    with open(os.path.join(repo, "config/cowwatch.yaml"), encoding="utf-8") as f:
        default_path = re.search(r"^control_socket:\n(?:  .*\n)*?  path: (\S+)", f.read(), re.M).group(1)
    if sock.get("ListenStream") != [default_path]:
        fail(f"cowwatch.socket listens on {sock.get('ListenStream')}, the default config on {default_path}")
    with open(os.path.join(os.path.dirname(unit), "cowwatch.sysusers"), encoding="utf-8") as f:
        if not re.search(r"^g cowwatch-cli\b", f.read(), re.M):
            fail("cowwatch.sysusers does not create group cowwatch-cli")
    print(f"cowwatch.socket: {default_path}, root:cowwatch-cli 0660 (group from sysusers.d)")

    allowed = allowed_syscalls(analyze, found["SystemCallFilter"])
    if allowed is None:
        fail("SystemCallFilter= has no allow list")
    denied = [c for c in NEEDED_SYSCALLS if c not in allowed]
    if denied:
        fail(f"SystemCallFilter= denies system calls the daemon needs: {denied}")
    print(f"SystemCallFilter: {len(allowed)} system calls allowed, including {', '.join(NEEDED_SYSCALLS)}")

    with tempfile.TemporaryDirectory(prefix="cw-unit-") as tmp:
        # Analyse a copy named like the installed unit, from a scratch directory.
        copy = os.path.join(tmp, "cowwatch.service")
        shutil.copy(unit, copy)
        shutil.copy(socket_unit, os.path.join(tmp, "cowwatch.socket"))
        result = run([analyze, "security", "--offline=yes", "--no-pager", copy], cwd=tmp)
        output = result.stdout + result.stderr
        match = re.search(r"Overall exposure level for cowwatch\.service: ([0-9.]+)", output)
        if not match:
            fail(f"no exposure score in systemd-analyze output:\n{output}")
        score = float(match.group(1))
        print(f"systemd-analyze security --offline=yes: exposure {score} (budget {budget})")
        for line in output.splitlines():
            if line.startswith("✗"):
                print("  " + re.sub(r"\s{2,}", "  ", line))
        if score > budget:
            fail(f"exposure {score} exceeds {budget}")

        result = run([analyze, "verify", "--man=no", copy, os.path.join(tmp, "cowwatch.socket")], cwd=tmp)
        problems = [line for line in (result.stdout + result.stderr).splitlines()
                    if line.strip() and "is not executable" not in line
                    and "No such file or directory" not in line]
        if problems:
            fail("systemd-analyze verify:\n" + "\n".join(problems))
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
