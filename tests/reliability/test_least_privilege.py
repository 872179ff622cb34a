#!/usr/bin/env python3
"""Promise: least privilege. Once its probes are attached, the running daemon holds no
capability at all: CapEff, CapPrm, CapInh, CapAmb and the bounding set in /proc/<pid>/status are
all 0 (it cannot regain one, not even through exec), in every thread (capabilities are per
thread: the metrics and control-socket threads parse untrusted input), and it still counts and
answers with none.
Usage: test_least_privilege.py --daemon PATH (root; exits 77 otherwise)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwrel  # noqa: E402

FORKS = 20


def capabilities(pid):
    caps = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Cap"):
                name, value = line.split(":")
                caps[name] = int(value.strip(), 16)
    return caps


def test_running_daemon_has_no_capabilities():
    binary = cwrel.daemon_path()
    comm = cwrel.unique_comm("cap")
    with cwrel.ForkWorkload(comm) as w, cwrel.running_daemon(binary) as d:
        caps = capabilities(d.pid)
        print("daemon", d.pid, {k: f"{v:016x}" for k, v in caps.items()})
        assert caps["CapEff"] == 0, f"CapEff is {caps['CapEff']:016x}, expected 0"
        for name in ("CapPrm", "CapInh", "CapAmb", "CapBnd"):
            assert caps[name] == 0, f"{name} is {caps[name]:016x}: a capability could be regained"
        kept = {}
        for task in os.listdir(f"/proc/{d.pid}/task"):  # capabilities are per thread
            c = capabilities(f"{d.pid}/task/{task}")
            if c["CapEff"] or c["CapPrm"]:
                with open(f"/proc/{d.pid}/task/{task}/comm") as f:
                    kept[f"{task} ({f.read().strip()})"] = f"{c['CapEff']:016x}"
        assert not kept, f"threads still holding capabilities: {kept}"
        assert "CapEff=0000000000000000" in d.log(), "the daemon logs its CapEff after attach"
        w.fork(FORKS)
        s = cwrel.wait_scrape(d, lambda s: cwrel.comm_forks(s, comm) >= FORKS, 30, "forks counted")
        assert cwrel.comm_forks(s, comm) == FORKS
        with cwrel.ControlClient(d.socket_path) as c:
            assert "result" in c.call("status")
        w.release()
        assert d.stop() == 0, "SIGTERM without capabilities still exits 0 (detach needs none)"


if __name__ == "__main__":
    cwrel.require_root()
    cwrel.run_tests([test_running_daemon_has_no_capabilities])
