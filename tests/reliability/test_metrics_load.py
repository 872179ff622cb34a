#!/usr/bin/env python3
"""Promise: scrapes under load neither fail nor disturb counting. wrk hammers /metrics from
loopback (2 threads, 8 keep-alive connections, 5 s) while a workload forks and two more scrapers
check every response in full (status 200, complete body, every line parses): no non-2xx
responses, no socket errors of any kind, no bad response, and the workload's fork count is exact
afterwards. The extra scrapers may wait while wrk holds every exposer thread (keep-alive); they
must be answered by the time the load stops (their wait is printed; docs/reliability.md).
Usage: test_metrics_load.py --daemon PATH (root; exits 77 otherwise; needs wrk)."""
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwrel  # noqa: E402

FORKS = 300
WRK_SECONDS = 5


class Checker(threading.Thread):
    """Scrapes in a loop for `seconds`; every response must be a complete, parsable 200."""

    def __init__(self, daemon, seconds):
        super().__init__(daemon=True)
        self.d, self.seconds, self.ok, self.errors, self.slowest = daemon, seconds, 0, [], 0.0

    def run(self):
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            try:
                t0 = time.monotonic()
                samples = cwrel.parse_metrics(self.d.scrape_text(timeout=self.seconds + 10))
                self.slowest = max(self.slowest, time.monotonic() - t0)
                if cwrel.metric(samples, "cowwatch_config_last_reload_successful") != 1:
                    raise AssertionError("incomplete exposition (self metrics missing)")
                self.ok += 1
            except Exception as e:  # noqa: BLE001 - every failed scrape is the finding
                self.errors.append(repr(e))


def test_wrk_on_metrics_during_a_workload():
    binary = cwrel.daemon_path()
    comm = cwrel.unique_comm("wrk")
    with cwrel.ForkWorkload(comm) as w, cwrel.running_daemon(binary) as d:
        url = f"http://127.0.0.1:{d.port}/metrics"
        wrk = subprocess.Popen(["wrk", "-t2", "-c8", f"-d{WRK_SECONDS}s", "--timeout", "5s", url],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        checkers = [Checker(d, WRK_SECONDS) for _ in range(2)]
        for c in checkers:
            c.start()
        w.fork(FORKS)
        out, _ = wrk.communicate(timeout=60)
        for c in checkers:
            c.join(30)
        print(out)
        assert wrk.returncode == 0, f"wrk failed ({wrk.returncode})"
        m = re.search(r"(\d+) requests in", out)
        assert m and int(m.group(1)) > 0, "wrk made no requests"
        assert "Non-2xx" not in out, "some scrapes were answered with a non-2xx status"
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        connect, read, write, timeout = map(int, errors.groups()) if errors else (0, 0, 0, 0)
        assert connect == write == timeout == 0, \
            f"socket errors: connect {connect}, write {write}, timeout {timeout}"
        assert read == 0, f"{read} wrk read errors (connections closed without Connection: close)"
        bad = [e for c in checkers for e in c.errors]
        checked = sum(c.ok for c in checkers)
        assert not bad, f"{len(bad)} bad scrapes during the load, first: {bad[0]}"
        assert checked > 0, "the checkers completed no scrape"
        s = cwrel.wait_scrape(d, lambda s: cwrel.comm_forks(s, comm) >= FORKS, 30,
                              f"{FORKS} forks of {comm}")
        assert cwrel.comm_forks(s, comm) == FORKS, f"{cwrel.comm_forks(s, comm)} forks != {FORKS}"
        slowest = max(c.slowest for c in checkers)
        print(f"wrk: {m.group(1)} scrapes; {checked} scrapes checked in full, slowest "
              f"{slowest:.2f}s; {FORKS} forks counted exactly")
        w.release()


if __name__ == "__main__":
    cwrel.require_root()
    if not shutil.which("wrk"):
        cwrel.skip("wrk is not installed (scripts/install-deps.sh installs it)")
    cwrel.run_tests([test_wrk_on_metrics_during_a_workload])
