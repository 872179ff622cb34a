#!/usr/bin/env python3
"""Promise: fail-safe reload. SIGHUP with a broken config (YAML syntax error; then a valid YAML
with an unknown key) keeps the running configuration: cowwatch_config_last_reload_successful
drops to 0, the log says why, the daemon keeps serving /metrics and the control socket on the
same address and keeps counting. A later SIGHUP with a good config sets the gauge back to 1.
Usage: test_reload.py --daemon PATH (root; exits 77 otherwise)."""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cwrel  # noqa: E402

RELOAD_OK = "cowwatch_config_last_reload_successful"
RELOAD_TS = "cowwatch_config_last_reload_success_timestamp_seconds"
FORKS = 30


def reload_and_wait(d, value, what):
    d.signal(signal.SIGHUP)
    return cwrel.wait_scrape(d, lambda s: cwrel.metric(s, RELOAD_OK) == value, 15, what)


def test_broken_config_is_rejected_and_old_one_kept():
    binary = cwrel.daemon_path()
    comm = cwrel.unique_comm("hup")
    with cwrel.ForkWorkload(comm) as w, cwrel.running_daemon(binary) as d:
        good = d.scrape()
        assert cwrel.metric(good, RELOAD_OK) == 1, "start-up load counts as a successful load"
        first_ts = cwrel.metric(good, RELOAD_TS)

        broken = [
            ("syntax error", "metrics: [unclosed\n  listen: {\n"),
            ("unknown key", open(d.config_path).read() + "bogus_section:\n  x: 1\n"),
            ("out of range", open(d.config_path).read().replace(
                "daemon:\n", "daemon:\n  log_level: chatty\n")),
        ]
        for what, text in broken:
            d.write_config(raw=text)
            s = reload_and_wait(d, 0, f"reload_successful 0 after a config with a {what}")
            assert d.alive(), f"daemon died on SIGHUP with a {what}"
            assert cwrel.metric(s, RELOAD_TS) == first_ts, "a failed reload keeps the last success time"
            with cwrel.ControlClient(d.socket_path) as c:
                assert "result" in c.call("status"), f"control socket still serves after a {what}"
        assert d.log().count("reload failed, keeping the running configuration") == len(broken), \
            "every failed reload is logged with its reason"

        w.fork(FORKS)  # still counting with the kept configuration
        s = cwrel.wait_scrape(d, lambda s: cwrel.comm_forks(s, comm) >= FORKS, 30, "forks counted")
        assert cwrel.comm_forks(s, comm) == FORKS, f"{cwrel.comm_forks(s, comm)} != {FORKS}"

        d.write_config("daemon:\n  log_level: debug\n")
        s = reload_and_wait(d, 1, "reload_successful back to 1 after a good config")
        assert cwrel.metric(s, RELOAD_TS) >= first_ts
        assert "configuration reloaded" in d.log()
        w.release()
        assert d.stop() == 0


if __name__ == "__main__":
    cwrel.require_root()
    cwrel.run_tests([test_broken_config_is_rejected_and_old_one_kept])
