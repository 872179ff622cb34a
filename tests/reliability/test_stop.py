#!/usr/bin/env python3
"""Promise: SIGTERM (and SIGINT) detach every probe and exit at once: within 100 ms on an idle
host, even with a scrape connection held open (HTTP keep-alive, as Prometheus does) and a control
client connected. Each stop's figure is printed; the test fails only above 1 s (a loaded CI host
must not turn a timing into a flake), or when a program or link of the daemon is left behind.
Usage: test_stop.py --daemon PATH (root; exits 77 otherwise)."""
import http.client
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwrel  # noqa: E402

ROUNDS = 5
LIMIT_S = 1.0
TARGET_S = 0.1


def stop_with_open_connections(d, sig):
    """Starts d, holds a keep-alive scrape connection and a control connection, then signals it.
    Returns (seconds from the signal to the exit, the daemon's programs and links)."""
    d.start()
    objects = cwrel.bpf_objects_of(d.pid)
    scraper = http.client.HTTPConnection("127.0.0.1", d.port, timeout=5)
    scraper.request("GET", "/metrics")  # HTTP/1.1: the connection stays open after the answer
    answer = scraper.getresponse()
    assert answer.status == 200 and answer.read(), "a scrape over the kept-alive connection"
    with cwrel.ControlClient(d.socket_path) as c:
        assert "result" in c.call("status")
        t0 = time.monotonic()
        d.signal(sig)
        d.proc.wait(10)
        took = time.monotonic() - t0
    scraper.close()
    assert d.proc.returncode == 0, f"exit status {d.proc.returncode} after {signal.Signals(sig).name}"
    return took, objects


def test_sigterm_exits_at_once_and_detaches():
    d = cwrel.Daemon(cwrel.daemon_path())
    figures = []
    try:
        for i in range(ROUNDS):
            sig = signal.SIGINT if i == ROUNDS - 1 else signal.SIGTERM
            took, (prog_ids, link_ids) = stop_with_open_connections(d, sig)
            figures.append(took)

            def left():  # the kernel frees them after an RCU grace period, not at exit itself
                progs = {p["id"] for p in cwrel.bpftool_json("prog", "show")}
                links = {l["id"] for l in cwrel.bpftool_json("link", "show")}
                return (prog_ids & progs) | (link_ids & links)
            cwrel.wait_for(lambda: not left(), 10,
                           f"the daemon's programs and links to be released after {signal.Signals(sig).name}")
            d.stop()
    finally:
        d.cleanup()
    over = [f for f in figures if f > TARGET_S]
    print("stop times with a kept-alive scrape and a control client open: " +
          ", ".join(f"{f * 1000:.0f} ms" for f in figures) +
          (f" ({len(over)} above the {TARGET_S * 1000:.0f} ms target)" if over else ""))
    assert max(figures) <= LIMIT_S, f"a stop took {max(figures):.2f} s (limit {LIMIT_S} s)"


if __name__ == "__main__":
    cwrel.require_root()
    cwrel.run_tests([test_sigterm_exits_at_once_and_detaches])
