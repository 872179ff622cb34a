#!/usr/bin/env python3
"""Live ecosystem tests: real cowwatchd, Prometheus and Alertmanager on loopback.

  --mode dashboards    Prometheus (shipped rules) scrapes cowwatchd while the pin_fork workload
                       runs; every dashboard panel query, evaluated through /api/v1/query with
                       the template variables set to "All", returns at least one series, and
                       every template variable query finds at least one value.
  --mode alerts        cowwatchd posts fork_with_pins to Alertmanager (v2 API) and Prometheus,
                       evaluating the shipped rules, forwards it as CowwatchAnomaly; both are
                       visible in Alertmanager's /api/v2/alerts; every shipped rule evaluates
                       without error against the live series.
  --mode capabilities  cowwatchd runs as an unprivileged user with only the systemd unit's
                       capabilities (setpriv), attaches its tracepoint hooks and counts the
                       workload's forks with long-term pins; it speaks the unit's sd_notify
                       protocol (Type=notify READY=1, WatchdogSec pings, SIGHUP reload as
                       RELOADING=1 then READY=1) to a notify socket the test owns.

Needs root (BPF), the Debian packages prometheus and prometheus-alertmanager, and the built
daemon and tests/ecosystem helper; each missing piece skips (77) with its reason, or fails
under CI=true. Servers get free ports and a temporary directory, and are always stopped.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fail, http, require_file, require_root, require_tool, run, skip, wait_until  # noqa: E402
from stack import Stack  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../dashboards"))
import generate as dashboards  # noqa: E402


# cowwatchd must detach and exit 0 on SIGTERM (design: "SIGTERM detaches cleanly").
STRICT_SHUTDOWN = True
# The workload's command name (the helper's file name): alerts must name it as their subject.
WORKLOAD_COMM = "cw_pin_fork"


def check_shutdown(stack):
    rc = stack.exit_codes.get("cowwatchd")
    if rc == 0:
        print("cowwatchd exited 0 on SIGTERM")
        return
    message = f"cowwatchd exit status {rc} after SIGTERM (expected 0: clean detach)"
    if STRICT_SHUTDOWN:
        fail(message)
    print(f"WARNING: {message}", flush=True)


def run_workload(pin_fork, forks=4, child_ms=300):
    """The fork_with_pins workload: io_uring fixed buffers (long-term pins), then forks."""
    result = run([pin_fork, str(forks), str(child_ms)], timeout=30)
    print(result.stdout + result.stderr, end="", flush=True)
    if result.returncode == 77:
        skip("io_uring fixed buffers unavailable here: no long-term pin workload")
    if result.returncode != 0:
        fail(f"pin_fork workload failed (exit {result.returncode})")
    if not re.search(r"VmPin:\s+[1-9]", result.stdout):
        fail("pin_fork did not hold long-term pins (VmPin is 0)")


def wait_scraped(stack):
    if not wait_until(lambda: stack.query('up{job="cowwatch"} == 1'), 20, what="a successful scrape"):
        stack.dump_logs()
        fail("Prometheus never scraped cowwatchd")


def wait_daemon_alert(stack):
    found = wait_until(lambda: stack.query(
        f'cowwatch_alert_active{{rule="fork_with_pins", subject=~".*{WORKLOAD_COMM}.*"}} == 1'), 30,
                       what="cowwatch_alert_active{rule=fork_with_pins} in Prometheus")
    if not found:
        stack.dump_logs()
        fail("the daemon's fork_with_pins alert never showed up in its metrics")
    print(f"daemon alert series: {found[0]['metric']}", flush=True)


def check_dashboards(stack, files):
    queries = [q for path in files for q in dashboards.queries_of(path)]
    variables = [v for path in files for v in dashboards.variable_queries_of(path)]
    print(f"{len(queries)} panel queries, {len(variables)} variable queries from {len(files)} dashboards")

    def empty_queries():
        return [(where, expr) for where, expr in queries if not stack.query(expr)]
    # Rates need two samples inside the window: poll until everything has data, bounded.
    started = time.monotonic()
    deadline = started + 40
    missing = empty_queries()
    while missing and time.monotonic() < deadline:
        time.sleep(1)
        missing = empty_queries()
    for where, expr in missing:
        print(f"NO DATA: {where}\n    {expr}")
    print(f"{len(queries) - len(missing)}/{len(queries)} panel queries returned series "
          f"(waited {time.monotonic() - started:.1f}s)", flush=True)

    missing_vars = []
    for where, selector, label in variables:
        series = stack.series(selector) or []
        values = sorted({s.get(label) for s in series if s.get(label)})
        print(f"{where}: {len(values)} values {values[:5]}")
        if not values:
            missing_vars.append(where)
    if missing or missing_vars:
        stack.dump_logs()
        fail(f"{len(missing)} panel queries and {len(missing_vars)} variables returned nothing")


def am_alert(stack, alertname, labels):
    """An active alert in Alertmanager with these labels, about the workload."""
    for alert in stack.alertmanager_alerts(alertname):
        if (all(alert["labels"].get(k) == v for k, v in labels.items())
                and WORKLOAD_COMM in alert["labels"].get("subject", "")):
            return alert
    return None


def check_alerts(stack, rules_file):
    with open(rules_file, encoding="utf-8") as f:
        expected_rules = len(re.findall(r"^\s*- (?:alert|record):", f.read(), re.M))

    def rules_evaluated():
        answer = json.loads(http("GET", f"{stack.prometheus_url}/api/v1/rules")[1] or "{}")
        rules = [r for g in answer.get("data", {}).get("groups", []) for r in g["rules"]]
        if len(rules) == expected_rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules):
            return rules
        return None
    rules = wait_until(rules_evaluated, 20, what=f"{expected_rules} shipped rules evaluated")
    if not rules:
        fail(f"Prometheus did not load and evaluate the {expected_rules} shipped rules")
    unhealthy = [(r["name"], r.get("lastError")) for r in rules if r.get("health") != "ok"]
    if unhealthy:
        fail(f"rules failing to evaluate: {unhealthy}")
    print(f"{len(rules)} shipped rules loaded and evaluated without error", flush=True)

    started = time.monotonic()
    daemon_alert = wait_until(lambda: am_alert(stack, "fork_with_pins", {}), 30,
                              what="fork_with_pins from cowwatchd in Alertmanager")
    if not daemon_alert:
        stack.dump_logs()
        fail("the daemon's alert never reached Alertmanager")
    print(f"Alertmanager has the daemon's alert after {time.monotonic() - started:.1f}s: "
          f"{daemon_alert['labels']}", flush=True)
    for label in ("severity", "scope", "subject"):
        if not daemon_alert["labels"].get(label):
            fail(f"daemon alert lacks label {label}: {daemon_alert['labels']}")

    forwarded = wait_until(lambda: am_alert(stack, "CowwatchAnomaly",
                                            {"rule": "fork_with_pins", "source": "prometheus", "job": "cowwatch"}),
                           30, what="CowwatchAnomaly from Prometheus in Alertmanager")
    if not forwarded:
        print(f"Prometheus alerts: {http('GET', f'{stack.prometheus_url}/api/v1/alerts')[1]}")
        stack.dump_logs()
        fail("the shipped rule's alert never reached Alertmanager")
    print(f"Alertmanager has the Prometheus rule's alert after {time.monotonic() - started:.1f}s: "
          f"{forwarded['labels']}", flush=True)
    if not forwarded["annotations"].get("summary", "").startswith("cowwatch fork_with_pins on 127.0.0.1:"):
        fail(f"unexpected annotation: {forwarded['annotations']}")


def metric_values(text, name):
    """[(labels dict, value)] of `name` in Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})?\s+(\S+)", line)
        if match:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(1) or ""))
            out.append((labels, float(match.group(2))))
    return out


def unit_capabilities(unit):
    with open(unit, encoding="utf-8") as f:
        caps = re.search(r"^AmbientCapabilities=(.*)$", f.read(), re.M).group(1).split()
    return [c.removeprefix("CAP_").lower() for c in caps]


class NotifySocket:
    """A NOTIFY_SOCKET like systemd's: collects the daemon's sd_notify datagrams."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)
        self.messages = []  # (monotonic time, "KEY=value")

    def collect(self, seconds):
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                break
            now = time.monotonic()
            self.messages += [(now, line) for line in data.decode(errors="replace").splitlines()]

    def wait_for(self, line, after, seconds):
        """The time `line` arrived after `after`, waiting up to `seconds`; None if it did not."""
        deadline = time.monotonic() + seconds
        while True:
            for when, message in self.messages:
                if when >= after and message == line:
                    return when
            if time.monotonic() >= deadline:
                return None
            self.collect(min(0.2, deadline - time.monotonic()))

    def close(self):
        self.sock.close()


def check_notify_protocol(stack, notify, started, watchdog_seconds):
    """Type=notify, WatchdogSec and ExecReload (SIGHUP) as the unit relies on them."""
    ready = notify.wait_for("READY=1", started, 5)
    if ready is None:
        fail(f"no READY=1 on NOTIFY_SOCKET (got {[m for _, m in notify.messages]})")
    ping = notify.wait_for("WATCHDOG=1", ready, watchdog_seconds)
    if ping is None:
        fail(f"no WATCHDOG=1 within WATCHDOG_USEC ({watchdog_seconds}s) of READY=1")
    print(f"sd_notify: READY=1 {ready - started:.2f}s after start, WATCHDOG=1 {ping - ready:.2f}s after READY")
    hup = time.monotonic()
    stack.servers[-1].process.send_signal(signal.SIGHUP)
    reloading = notify.wait_for("RELOADING=1", hup, 5)
    ready_again = reloading and notify.wait_for("READY=1", reloading, 5)
    if not reloading or not ready_again:
        fail(f"SIGHUP did not produce RELOADING=1 then READY=1 (got {[m for _, m in notify.messages]})")
    text = http("GET", f"http://127.0.0.1:{stack.metrics_port}/metrics")[1]
    reload_ok = metric_values(text, "cowwatch_config_last_reload_successful")
    if not reload_ok or reload_ok[0][1] != 1:
        fail(f"after SIGHUP cowwatch_config_last_reload_successful is {reload_ok}")
    print(f"SIGHUP: RELOADING=1 after {reloading - hup:.2f}s, READY=1 after {ready_again - hup:.2f}s, reload successful")


def check_capabilities(args, workdir):
    setpriv = require_tool("setpriv")
    caps = ",".join("+" + c for c in unit_capabilities(args.unit))
    os.chmod(workdir, 0o755)
    socket_dir = os.path.join(workdir, "run")
    os.mkdir(socket_dir)
    os.chown(socket_dir, 65534, 65534)
    wrapper = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs",
               f"--bounding-set=-all,{caps}", f"--inh-caps=-all,{caps}", f"--ambient-caps=-all,{caps}"]
    print(f"unprivileged daemon with capabilities {caps}")
    notify = NotifySocket(os.path.join(socket_dir, "notify.sock"))
    watchdog_seconds = 2
    env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": str(watchdog_seconds * 1000000)}
    with Stack(workdir) as stack:
        started = time.monotonic()
        if not stack.start_cowwatchd(args.cowwatchd, wrapper=wrapper, socket_dir=socket_dir, env=env):
            fail("cowwatchd did not come up with the unit's capabilities as an unprivileged user")
        check_notify_protocol(stack, notify, started, watchdog_seconds)
        notify.close()
        pid = stack.servers[-1].process.pid
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            status = f.read()
        for key, value in re.findall(r"^(Uid|CapEff|CapPrm|CapBnd):\s*(.*)$", status, re.M):
            print(f"daemon {key}: {value}")
        url = f"http://127.0.0.1:{stack.metrics_port}/metrics"
        text = http("GET", url)[1]
        probes = {labels["hook"]: labels.get("strategy") for labels, _ in metric_values(text, "cowwatch_probe_info")}
        print(f"probe plan: {probes}")
        for hook in ("fork", "exit"):
            if probes.get(hook) in (None, "unavailable"):
                fail(f"hook {hook} unavailable with the unit's capabilities: {probes}")

        def longterm_forks():
            values = metric_values(http("GET", url)[1], "cowwatch_forks_total")
            return sum(v for labels, v in values if labels.get("pins") == "longterm")
        before = longterm_forks()
        run_workload(args.pin_fork, forks=3, child_ms=50)
        after = wait_until(lambda: longterm_forks() >= before + 3 and longterm_forks(), 15,
                           what="3 more forks with long-term pins counted")
        if not after:
            stack.dump_logs()
            fail(f"forks with long-term pins not counted (before {before}, now {longterm_forks()})")
        print(f"cowwatch_forks_total{{pins=\"longterm\"}}: {before} -> {after}")
    check_shutdown(stack)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", required=True, choices=["dashboards", "alerts", "capabilities"])
    parser.add_argument("--cowwatchd", default="")
    parser.add_argument("--pin-fork", default="")
    parser.add_argument("--rules", default="")
    parser.add_argument("--unit", default="")
    parser.add_argument("dashboards", nargs="*")
    args = parser.parse_args()

    require_root("loading cowwatch's BPF programs")
    require_file(args.cowwatchd, "cowwatchd")
    require_file(args.pin_fork, "the pin_fork workload helper")
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix=f"cw-live-{args.mode}-")
    try:
        if args.mode == "capabilities":
            check_capabilities(args, workdir)
        else:
            prometheus = require_tool("prometheus")
            alertmanager = require_tool("prometheus-alertmanager") if args.mode == "alerts" else None
            with Stack(workdir) as stack:
                if alertmanager and not stack.start_alertmanager(alertmanager):
                    fail("Alertmanager did not start")
                if not stack.start_cowwatchd(args.cowwatchd):
                    fail("cowwatchd did not start")
                if not stack.start_prometheus(prometheus, os.path.abspath(args.rules), stack.metrics_port):
                    fail("Prometheus did not start")
                wait_scraped(stack)
                run_workload(args.pin_fork)
                wait_daemon_alert(stack)
                if args.mode == "dashboards":
                    check_dashboards(stack, args.dashboards)
                else:
                    check_alerts(stack, args.rules)
            check_shutdown(stack)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"PASS ({args.mode}, {time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
