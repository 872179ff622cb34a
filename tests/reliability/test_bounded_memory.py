#!/usr/bin/env python3
"""Promise: bounded memory. Per-process state is bounded by limits.max_tracked_processes in the
kernel map and in the daemon, whatever the load. A fork storm far larger than the smallest
capacity (1024), with most exit records lost on a 4 KiB control ring, never grows
cowwatch_process_map_entries or cowwatch_tracked_processes beyond the capacity, host totals stay
exact (>= forks made), and the daemon's resident memory stays bounded.
After the storm's processes are gone, the daemon reclaims their entries although their exit
records were lost (map entries fall back near the level before the storm); otherwise the map
would fill up and every later process would be counted for the host only (proc_map_full).
Usage: test_bounded_memory.py --daemon PATH (root; exits 77 otherwise)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwrel  # noqa: E402

CAPACITY = 1024
FORKS = 1500
CONFIG = f"""limits:
  max_tracked_processes: {CAPACITY}
bpf:
  control_ring_size: 4KiB
"""


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def storm(d, comm):
    before = d.scrape()
    with cwrel.ForkWorkload(comm) as w, cwrel.paused(d):  # exit records overflow the control ring
        w.fork(FORKS)
        w.release()
    host_before = cwrel.metric_sum(before, "cowwatch_forks_total")
    return before, cwrel.wait_scrape(
        d, lambda s: cwrel.metric_sum(s, "cowwatch_forks_total") >= host_before + FORKS, 30,
        f"{FORKS} more forks in the host total")


def test_state_stays_within_capacity():
    binary = cwrel.daemon_path()
    with cwrel.running_daemon(binary, CONFIG, poll_interval="1s", drain_interval="1s") as d:
        rss_start = rss_kib(d.pid)
        before, after = storm(d, cwrel.unique_comm("mem"))
        entries = cwrel.metric(after, "cowwatch_process_map_entries")
        tracked = cwrel.metric(after, "cowwatch_tracked_processes")
        capacity = cwrel.metric(after, "cowwatch_process_map_capacity")
        lost_exits = (cwrel.metric_sum(after, "cowwatch_events_dropped_total", cause="ctl_ring_full") -
                      cwrel.metric_sum(before, "cowwatch_events_dropped_total", cause="ctl_ring_full"))
        print(f"capacity {capacity:.0f}: map entries {entries:.0f}, tracked {tracked:.0f}, "
              f"{lost_exits:.0f} control records lost, RSS {rss_start} -> {rss_kib(d.pid)} KiB")
        assert capacity == CAPACITY
        assert entries <= CAPACITY and tracked <= CAPACITY, "state beyond max_tracked_processes"
        assert lost_exits > 0, (
            "the storm must overflow the 4 KiB control ring (daemon stopped during it); host forks "
            f"{cwrel.metric_sum(before, 'cowwatch_forks_total'):.0f} -> {cwrel.metric_sum(after, 'cowwatch_forks_total'):.0f}, "
            f"records received {cwrel.metric_sum(after, 'cowwatch_events_received_total'):.0f}")
        assert rss_kib(d.pid) < rss_start + 64 * 1024, "daemon RSS grew by more than 64 MiB"


def test_entries_of_gone_processes_are_reclaimed():
    binary = cwrel.daemon_path()
    with cwrel.running_daemon(binary, CONFIG, poll_interval="200ms", drain_interval="1s") as d:
        base = cwrel.metric(d.scrape(), "cowwatch_process_map_entries")
        storm(d, cwrel.unique_comm("gc"))
        cwrel.wait_scrape(
            d, lambda s: cwrel.metric(s, "cowwatch_process_map_entries") <= base + 64, 30,
            f"map entries back near {base:.0f} after the storm's processes exited")


if __name__ == "__main__":
    cwrel.require_root()
    cwrel.run_tests([test_state_stays_within_capacity, test_entries_of_gone_processes_are_reclaimed])
