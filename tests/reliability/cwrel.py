"""Shared harness of the reliability tier: runs a real cowwatchd on the host kernel with a private
config (free metrics port, control socket in a temp dir), scrapes and parses /metrics, talks to
the control socket, and makes workloads with exactly known counts (forks of a process with a
unique comm). Python standard library only. Tests that cannot run (not root, no BPF) exit 77.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(SKIP)


def require_root():
    if os.geteuid() != 0:
        skip("needs root (loads BPF programs)")


def daemon_path():
    """The cowwatchd to test: --daemon PATH on the command line or $COWWATCHD."""
    for i, arg in enumerate(sys.argv):
        if arg == "--daemon" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    path = os.environ.get("COWWATCHD")
    if not path:
        skip("no daemon given (--daemon PATH or COWWATCHD)")
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value} of a Prometheus text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise AssertionError("unparsable metrics line: " + line)
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric(samples, name, **labels):
    """The value of one series (None when absent)."""
    return samples.get((name, frozenset(labels.items())))


def metric_sum(samples, name, **labels):
    """Sum over the series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def bpf_available():
    return os.path.isdir("/sys/fs/bpf") or os.path.exists("/sys/kernel/btf/vmlinux")


class Daemon:
    """One cowwatchd with its own config, port, socket and log, stopped at exit."""

    def __init__(self, binary, extra_yaml="", poll_interval="200ms", drain_interval="50ms"):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="cowwatch-rel-")
        os.chmod(self.dir, 0o755)  # an unprivileged test peer must reach the socket directory
        self.port = free_port()
        self.socket_path = os.path.join(self.dir, "run", "cowwatch.sock")
        self.config_path = os.path.join(self.dir, "cowwatch.yaml")
        self.log_path = os.path.join(self.dir, "cowwatchd.log")
        self.base_yaml = (
            "daemon:\n"
            f"  poll_interval: {poll_interval}\n"
            f"  drain_interval: {drain_interval}\n"
            "metrics:\n"
            f"  listen: \"127.0.0.1:{self.port}\"\n"
            "  max_comms: 100000\n"
            "control_socket:\n"
            f"  path: {self.socket_path}\n"
        )
        self.write_config(extra_yaml)
        self.proc = None
        self._log = None

    def write_config(self, extra_yaml="", raw=None):
        text = raw if raw is not None else merge_yaml(self.base_yaml, extra_yaml)
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.config_path)

    def start(self, timeout=30):
        """Starts cowwatchd and waits until it logs "running" and /metrics answers."""
        self._log = open(self.log_path, "ab")
        offset = self._log.tell()  # a restart appends to the same log
        self.proc = subprocess.Popen([self.binary, "--config", self.config_path],
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"cowwatchd exited with {self.proc.returncode} during "
                                     "start-up:\n" + self.log())
            if re.search(r"^cowwatchd: running$", self.log()[offset:], re.M):
                self.scrape_text()
                return self
            time.sleep(0.05)
        raise AssertionError("cowwatchd did not report running within %ss:\n%s" % (timeout, self.log()))

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def scrape_text(self, timeout=5):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=timeout) as r:
            if r.status != 200:
                raise AssertionError(f"/metrics answered {r.status}")
            return r.read().decode()

    def scrape(self):
        return parse_metrics(self.scrape_text())

    def signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("cowwatchd ignored SIGTERM for %ss" % timeout)
        rc = self.proc.returncode
        if self._log:
            self._log.close()
            self._log = None
        return rc

    def cleanup(self):
        try:
            if self.alive():
                self.proc.kill()
                self.proc.wait()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def merge_yaml(base, extra):
    """Appends `extra` top-level sections to `base`; a section present in both is merged by
    putting extra's keys first under the one header (enough for our small flat configs)."""
    if not extra.strip():
        return base
    sections = {}
    order = []
    for text in (base, extra):
        current = None
        for line in text.splitlines():
            if line and not line.startswith(" "):
                current = line.rstrip(":").strip()
                if current not in sections:
                    sections[current] = []
                    order.append(current)
            elif current is not None and line.strip():
                key = line.strip().split(":")[0]
                sections[current] = [l for l in sections[current] if l.strip().split(":")[0] != key]
                sections[current].append(line)
    return "".join(f"{s}:\n" + "".join(l + "\n" for l in sections[s]) for s in order)


@contextlib.contextmanager
def paused(daemon):
    """The daemon stopped (SIGSTOP) for the block: nothing drains its rings, so a storm inside
    overflows them whatever the wakeup policy (a quarter-full ring wakes a running reader)."""
    daemon.signal(signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 5
        while process_state(daemon.pid) != "T":  # the stop is asynchronous: wait until it holds
            if time.monotonic() > deadline:
                raise AssertionError(f"cowwatchd (pid {daemon.pid}) did not stop: state {process_state(daemon.pid)}")
            time.sleep(0.01)
        yield
    finally:
        daemon.signal(signal.SIGCONT)


def process_state(pid):
    """The state letter of /proc/PID/stat (R, S, T, ...)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@contextlib.contextmanager
def running_daemon(binary, extra_yaml="", **kw):
    d = Daemon(binary, extra_yaml, **kw)
    try:
        d.start()
        yield d
    except BaseException:
        print("---- cowwatchd log ----\n" + d.log(), file=sys.stderr)
        raise
    finally:
        d.stop() if d.alive() else None
        d.cleanup()


def unique_comm(tag):
    """A comm (<= 15 bytes) no other process on the host has."""
    return ("cw%s%05d" % (tag, os.getpid() % 100000))[:15]


class ForkWorkload:
    """A child process that renames itself to `comm`, then forks `forks` children (each exits at
    once) when told to, reports done, and stays alive until released: the parent's fork counter
    is exactly `forks`.
    Create it before the daemon starts: the daemon reads a process's comm from /proc once, when it
    first sees it, and a later rename is only picked up for top-K processes, so a workload that
    renames itself after the daemon met it could be counted under "python3"."""

    _CODE = r"""
import os, sys
with open("/proc/self/comm", "w") as f:
    f.write(sys.argv[1])
sys.stdout.write("ready\n"); sys.stdout.flush()
n = int(sys.stdin.readline())
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
sys.stdout.write("done\n"); sys.stdout.flush()
sys.stdin.readline()
"""

    def __init__(self, comm):
        self.comm = comm
        self.proc = subprocess.Popen([sys.executable, "-c", self._CODE, comm],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    @property
    def pid(self):
        return self.proc.pid

    def fork(self, n):
        self.proc.stdin.write(f"{n}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().strip()
        assert line == "done", "workload failed: " + line

    def release(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            self.proc.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def wait_for(predicate, timeout, what, interval=0.1):
    """Polls predicate() until it returns a true value; fails with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def comm_forks(samples, comm):
    return metric_sum(samples, "cowwatch_comm_forks_total", comm=comm)


def bpftool_json(*args):
    out = subprocess.run(["bpftool", "-j", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out or "[]")


def run_tests(tests):
    """Runs test functions in order, printing PASS/FAIL; exit status 1 on any failure."""
    failed = 0
    for fn in tests:
        t0 = time.monotonic()
        try:
            fn()
            print(f"PASS {fn.__name__} ({time.monotonic() - t0:.1f}s)")
        except AssertionError as e:
            failed += 1
            print(f"FAIL {fn.__name__}: {e}")
    sys.exit(1 if failed else 0)


class ControlClient:
    """A control-socket connection speaking JSON lines (docs/protocol.md)."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_line(self):
        """The next line as parsed JSON, or None when the server closed the connection."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, params=None):
        rid = self.next_id
        self.next_id += 1
        req = {"v": 1, "id": rid, "method": method, "params": params or {}}
        self.send_raw((json.dumps(req) + "\n").encode())
        resp = self.read_line()
        assert resp is not None, f"server closed the connection instead of answering {method}"
        assert resp.get("id") == rid, f"response id {resp.get('id')} != {rid}"
        return resp

    def closed_by_server(self, timeout=5.0):
        """True when the server closes the connection within `timeout` (pending lines skipped)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wait_scrape(daemon, predicate, timeout, what):
    """Scrapes until predicate(samples) holds; returns those samples."""
    def attempt():
        s = daemon.scrape()
        return s if predicate(s) else None
    return wait_for(attempt, timeout, what)


def bpf_objects_of(pid):
    """({prog ids}, {link ids}) held by process `pid`, from /proc/<pid>/fdinfo."""
    progs, links = set(), set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        if target == "anon_inode:bpf-prog" and "prog_id" in info:
            progs.add(int(info["prog_id"]))
        elif target == "anon_inode:bpf_link" and "link_id" in info:
            links.add(int(info["link_id"]))
    return progs, links


def processes_named(comm):
    """Pids of live processes whose comm is `comm`."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == comm:
                        out.append(int(entry))
            except OSError:
                pass
    return out
