#!/usr/bin/env python3
"""Promise: socket access control and isolation. Against a running daemon, while one
well-behaved client keeps asking for status, other peers send an oversized request, garbage,
a slow-loris request (one byte at a time, never finished), more connections than allowed, and
connect as an unprivileged user (uid/gid 65534): each is rejected the documented way
(docs/protocol.md error codes, connection closed where the protocol says so) and the
well-behaved client never sees an error or a stall.
Usage: test_control_socket.py --daemon PATH (root; exits 77 otherwise)."""
import errno
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwrel  # noqa: E402

MAX_REQUEST = 4096
TIMEOUT_S = 1.0
SOCKET_CONFIG = f"""control_socket:
  max_request_bytes: {MAX_REQUEST}
  client_timeout: {int(TIMEOUT_S * 1000)}ms
"""
NOBODY = 65534


class SteadyClient(threading.Thread):
    """Asks for status in a loop on one connection; records failures and the slowest answer."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.errors = []
        self.calls = 0
        self.slowest = 0.0

    def run(self):
        try:
            with cwrel.ControlClient(self.path, timeout=5) as c:
                while not self.stop.is_set():
                    t0 = time.monotonic()
                    r = c.call("status")
                    self.slowest = max(self.slowest, time.monotonic() - t0)
                    if "result" not in r:
                        self.errors.append(r)
                    self.calls += 1
                    # stays within client_timeout between requests, as a live CLI would
                    time.sleep(0.02)
        except Exception as e:  # noqa: BLE001 - any failure of the steady client is the finding
            self.errors.append(repr(e))


def error_code(resp):
    return (resp or {}).get("error", {}).get("code")


def check_oversized(path):
    with cwrel.ControlClient(path) as c:
        c.send_raw(b'{"v":1,"id":1,"method":"status","params":{"pad":"' + b"x" * (4 * MAX_REQUEST))
        r = c.read_line()
        assert error_code(r) == "request_too_large", f"oversized request answered {r}"
        assert c.closed_by_server(), "the server closes after request_too_large"


def check_garbage(path):
    with cwrel.ControlClient(path) as c:
        for junk in (b"\x00\xff\xfe garbage\n", b"[1,2,3]\n", b'{"v":1,"method":7}\n', b"\n", b"}{\n"):
            c.send_raw(junk)
            r = c.read_line()
            assert error_code(r) == "bad_request", f"{junk!r} answered {r}"
        assert "result" in c.call("status"), "a client that sent garbage may still ask properly"


def check_slow_loris(path):
    with cwrel.ControlClient(path, timeout=10) as c:
        t0 = time.monotonic()
        c.send_raw(b'{"v":1,')
        r = c.read_line()
        waited = time.monotonic() - t0
        assert error_code(r) == "timeout", f"half a request answered {r}"
        assert waited < TIMEOUT_S + 3, f"half a request held the connection for {waited:.1f}s"
        assert c.closed_by_server(), "the server closes a timed-out connection"
    # One byte every 0.3 s never completes a line: the limit is on completing a request, so
    # trickling bytes must not keep the connection open forever.
    with cwrel.ControlClient(path, timeout=10) as c:
        t0 = time.monotonic()
        closed = False
        try:
            for b in b'{"v":1,"id":1,"method":"status","params":{}':
                c.send_raw(bytes([b]))
                time.sleep(0.3)
                if time.monotonic() - t0 > TIMEOUT_S + 3:
                    break
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        waited = time.monotonic() - t0
        assert closed or c.closed_by_server(timeout=0.5), \
            f"a trickling client kept its connection for {waited:.1f}s (timeout {TIMEOUT_S}s)"
        assert waited < TIMEOUT_S + 3.5, f"trickling client held the connection {waited:.1f}s"


def check_too_many_clients(path):
    conns = []
    try:
        rejected = 0
        for _ in range(40):  # the server allows 32
            c = cwrel.ControlClient(path)
            conns.append(c)
        for c in conns:
            c.sock.settimeout(0.2)
            try:
                r = c.read_line()
            except socket.timeout:
                continue
            if error_code(r) == "too_many_clients":
                rejected += 1
        assert rejected >= 1, "connections beyond max_clients get too_many_clients"
    finally:
        for c in conns:
            c.close()


def as_nobody(fn):
    """Runs fn() in a child with uid/gid 65534; returns its exit status (0 = fn returned True)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code = 0 if fn() else 1
        except BaseException as e:  # noqa: BLE001
            print("unprivileged child:", repr(e))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def check_unprivileged_peer(path):
    def refused_by_mode():
        try:
            cwrel.ControlClient(path)
        except PermissionError as e:
            return e.errno == errno.EACCES
        return False
    assert as_nobody(refused_by_mode) == 0, "socket mode 0660 must refuse an unprivileged connect"

    os.chmod(path, 0o666)  # take the file mode away: SO_PEERCRED must still refuse the peer
    try:
        def refused_by_peercred():
            with cwrel.ControlClient(path) as c:
                try:
                    c.send_raw(b'{"v":1,"id":1,"method":"status"}\n')
                except (BrokenPipeError, ConnectionResetError):
                    return True
                r = c.read_line()
                if r is not None and error_code(r) != "permission_denied":
                    print("unprivileged peer got", r)
                    return False
                return c.closed_by_server()
        assert as_nobody(refused_by_peercred) == 0, \
            "an unprivileged peer must get permission_denied and be disconnected"
    finally:
        os.chmod(path, 0o660)


def test_hostile_peers_do_not_disturb_a_client():
    binary = cwrel.daemon_path()
    with cwrel.running_daemon(binary, SOCKET_CONFIG) as d:
        steady = SteadyClient(d.socket_path)
        steady.start()
        try:
            for check in (check_oversized, check_garbage, check_slow_loris, check_too_many_clients,
                          check_unprivileged_peer):
                check(d.socket_path)
                assert not steady.errors, f"after {check.__name__}: steady client saw {steady.errors}"
                print(f"{check.__name__}: ok")
        finally:
            steady.stop.set()
            steady.join(10)
        assert not steady.errors, f"steady client saw {steady.errors}"
        assert steady.calls > 10, f"steady client made only {steady.calls} calls"
        print(f"steady client: {steady.calls} calls, slowest {steady.slowest * 1000:.0f} ms")
        assert steady.slowest < 1.0, f"a status call took {steady.slowest:.2f}s during the attacks"
        assert d.alive()


if __name__ == "__main__":
    cwrel.require_root()
    cwrel.run_tests([test_hostile_peers_do_not_disturb_a_client])
