"""Real servers on loopback for the live ecosystem tests: Alertmanager, Prometheus (with the
shipped rules) and cowwatchd, each on a free port, in a temporary directory, with bounded waits.

Every server is started with PR_SET_PDEATHSIG=SIGKILL, so it dies with the test even if ctest
kills the test on a timeout; Stack.close() terminates them (SIGTERM, then SIGKILL) in reverse
order and prints the tail of the log of any server that misbehaved.
"""
import ctypes
import json
import os
import signal
import subprocess
import time
import urllib.parse

from common import free_port, get_json, http, wait_until

PR_SET_PDEATHSIG = 1


def _die_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Server:
    def __init__(self, name, cmd, log_path, preexec=None, env=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "w", encoding="utf-8")
        print(f"starting {name}: {' '.join(cmd)}", flush=True)

        def setup():
            _die_with_parent()
            if preexec:
                preexec()
        self.process = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, preexec_fn=setup,
                                        env=dict(os.environ, **(env or {})))

    def alive(self):
        return self.process.poll() is None

    def tail(self, lines=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout=5):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        self.log.close()
        return self.process.returncode


class Stack:
    """Owns the servers of one test run; use as a context manager."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.servers = []
        self.prometheus_url = None
        self.alertmanager_url = None
        self.metrics_port = None
        self.exit_codes = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        for server in reversed(self.servers):
            rc = server.stop()
            self.exit_codes[server.name] = rc
            print(f"stopped {server.name} (exit {rc})", flush=True)

    def dump_logs(self):
        for server in self.servers:
            print(f"--- {server.name} log tail ({server.log_path}) ---\n{server.tail()}", flush=True)

    def _start(self, name, cmd, preexec=None, env=None):
        server = Server(name, cmd, os.path.join(self.workdir, f"{name}.log"), preexec, env)
        self.servers.append(server)
        return server

    def _wait_ready(self, server, url, timeout, body_contains=None):
        def ready():
            if not server.alive():
                return "dead"
            status, text = http("GET", url, timeout=2)
            if status == 200 and (body_contains is None or body_contains in text):
                return "ready"
            return None
        started = time.monotonic()
        state = wait_until(ready, timeout, what=f"{server.name} at {url}")
        if state != "ready":
            self.dump_logs()
            return False
        print(f"{server.name} ready after {time.monotonic() - started:.1f}s", flush=True)
        return True

    def start_alertmanager(self, binary, timeout=20):
        port = free_port()
        config = os.path.join(self.workdir, "alertmanager.yml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("route:\n  receiver: blackhole\n  group_wait: 1s\n"
                    "receivers:\n  - name: blackhole\n")
        server = self._start("alertmanager", [
            binary, f"--config.file={config}", f"--storage.path={self.workdir}/alertmanager-data",
            f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=info"])
        self.alertmanager_url = f"http://127.0.0.1:{port}"
        return self._wait_ready(server, f"{self.alertmanager_url}/-/ready", timeout)

    def start_prometheus(self, binary, rules_file, metrics_port, timeout=30):
        port = free_port()
        config = os.path.join(self.workdir, "prometheus.yml")
        alerting = ""
        if self.alertmanager_url:
            alerting = ("alerting:\n  alertmanagers:\n    - static_configs:\n"
                        f"        - targets: ['{self.alertmanager_url.removeprefix('http://')}']\n")
        with open(config, "w", encoding="utf-8") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    f"rule_files:\n  - {json.dumps(rules_file)}\n{alerting}"
                    "scrape_configs:\n  - job_name: cowwatch\n    static_configs:\n"
                    f"      - targets: ['127.0.0.1:{metrics_port}']\n")
        server = self._start("prometheus", [
            binary, f"--config.file={config}", f"--storage.tsdb.path={self.workdir}/prometheus-data",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=info"])
        self.prometheus_url = f"http://127.0.0.1:{port}"
        return self._wait_ready(server, f"{self.prometheus_url}/-/ready", timeout)

    def start_cowwatchd(self, binary, wrapper=(), socket_dir=None, env=None, timeout=30):
        """cowwatchd with a temporary config (metrics on a free port, socket in socket_dir,
        Alertmanager if started), optionally under a wrapper command such as setpriv."""
        self.metrics_port = free_port()
        socket_dir = socket_dir or self.workdir
        config = os.path.join(self.workdir, "cowwatch.yaml")
        alertmanager = f"alertmanager:\n  url: \"{self.alertmanager_url}\"\n" if self.alertmanager_url else ""
        with open(config, "w", encoding="utf-8") as f:
            f.write(f"metrics:\n  listen: \"127.0.0.1:{self.metrics_port}\"\n"
                    f"control_socket:\n  path: {json.dumps(os.path.join(socket_dir, 'cowwatch.sock'))}\n"
                    f"{alertmanager}")
        os.chmod(config, 0o644)
        server = self._start("cowwatchd", [*wrapper, binary, "--config", config], env=env)
        return self._wait_ready(server, f"http://127.0.0.1:{self.metrics_port}/metrics", timeout,
                                body_contains="cowwatch_build_info")

    def query(self, expr):
        """Instant query through Prometheus's HTTP API: the result list, or None on error."""
        url = f"{self.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        answer = get_json(url)
        if not answer or answer.get("status") != "success":
            return None
        return answer["data"]["result"]

    def series(self, selector):
        url = f"{self.prometheus_url}/api/v1/series?" + urllib.parse.urlencode({"match[]": selector})
        answer = get_json(url)
        if not answer or answer.get("status") != "success":
            return None
        return answer["data"]

    def alertmanager_alerts(self, alertname):
        url = (f"{self.alertmanager_url}/api/v2/alerts?"
               + urllib.parse.urlencode({"filter": f'alertname="{alertname}"', "active": "true"}))
        return get_json(url) or []
