#!/usr/bin/env python3
"""Promise: a daemon that dies leaves nothing attached. After SIGKILL (no teardown runs) every BPF
program and link the daemon held is gone (bpftool prog show / link show), no cw_* program is
left when no other cowwatchd runs, and a restarted daemon (same config: stale socket file, same
port) counts again exactly.
Usage: test_kill_restart.py --daemon PATH (root; exits 77 otherwise)."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwrel  # noqa: E402

FORKS = 50


def attached():
    progs = {p["id"]: p.get("name", "") for p in cwrel.bpftool_json("prog", "show")}
    links = cwrel.bpftool_json("link", "show")
    return progs, {l["id"]: l.get("prog_id") for l in links}


def test_sigkill_detaches_everything_and_restart_counts():
    binary = cwrel.daemon_path()
    d = cwrel.Daemon(binary)
    try:
        d.start()
        prog_ids, link_ids = cwrel.bpf_objects_of(d.pid)
        assert prog_ids and link_ids, f"daemon holds no BPF programs/links (fdinfo): {prog_ids} {link_ids}"
        progs, links = attached()
        assert prog_ids <= set(progs), "the daemon's programs must show in bpftool prog show"
        assert all(progs[i].startswith("cw_") for i in prog_ids), "cowwatch programs are named cw_*"
        assert link_ids <= set(links), "the daemon's links must show in bpftool link show"
        print(f"daemon {d.pid}: programs {sorted(prog_ids)}, links {sorted(link_ids)}")

        d.signal(signal.SIGKILL)
        d.proc.wait(10)

        def gone():
            progs, links = attached()
            left = (prog_ids & set(progs)) | {l for l, p in links.items() if l in link_ids or p in prog_ids}
            return not left
        cwrel.wait_for(gone, 10, "the killed daemon's programs and links to be released")
        if not cwrel.processes_named("cowwatchd"):
            progs, _ = attached()
            stray = [n for n in progs.values() if n.startswith("cw_")]
            assert not stray, f"cw_* programs left with no cowwatchd running: {stray}"
        assert os.path.exists(d.socket_path), "the killed daemon leaves its socket file (stale)"

        # The workload exists before the restart (see ForkWorkload), as a running service would.
        comm = cwrel.unique_comm("kill")
        with cwrel.ForkWorkload(comm) as w:
            d.start()  # same config: must replace the stale socket and reuse the port
            w.fork(FORKS)
            s = cwrel.wait_scrape(d, lambda s: cwrel.comm_forks(s, comm) >= FORKS, 30,
                                  f"{FORKS} forks of {comm} after the restart")
            assert cwrel.comm_forks(s, comm) == FORKS, f"{cwrel.comm_forks(s, comm)} forks != {FORKS}"
            w.release()
        with cwrel.ControlClient(d.socket_path) as c:
            assert "result" in c.call("status"), "restarted daemon answers on the control socket"
        assert d.stop() == 0, "SIGTERM exits 0"
    except BaseException:
        print("---- cowwatchd log ----\n" + d.log(), file=sys.stderr)
        raise
    finally:
        d.cleanup()


if __name__ == "__main__":
    cwrel.require_root()
    cwrel.run_tests([test_sigkill_detaches_everything_and_restart_counts])
