#!/usr/bin/env python3
"""Secured scraping, live: a real Prometheus scrapes cowwatchd over TLS with basic auth
(metrics.web_config_file in the exporter-toolkit format), and the negative cases hold:

  * Prometheus (`scheme: https`, `tls_config.ca_file`, `basic_auth`) scrapes: up == 1 and
    cowwatch_build_info arrives;
  * a wrong password and no password get 401 and no metric; plain HTTP to the TLS port gets no
    HTTP answer; a client that trusts another CA refuses the server;
  * a certificate replaced on disk is served without a restart (same pid);
  * switching the web config to mutual TLS (RequireAndVerifyClientCert + client_ca_file) takes
    effect without a restart: a client without a certificate is refused, Prometheus with its
    client certificate scrapes again;
  * an invalid edit keeps the running setup and logs the file and line.

Needs root (BPF), openssl, the Debian package prometheus, and libcrypt (bcrypt hashes).
Usage: test_secure_scrape.py --cowwatchd PATH
"""
import argparse
import base64
import hashlib
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fail, free_port, http, require_file, require_root, require_tool, wait_until  # noqa: E402
from stack import Stack  # noqa: E402
from tls_material import bcrypt, make_ca, make_cert  # noqa: E402

USER, PASSWORD = "prometheus", "s3cret-scrape"


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def web_config(d, server, mtls=False):
    text = (f"tls_server_config:\n  cert_file: {d}/{server}.crt\n  key_file: {d}/{server}.key\n")
    if mtls:
        text += f"  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {d}/clientca.crt\n"
    return text + f"basic_auth_users:\n  {USER}: '{bcrypt(PASSWORD)}'\n"


def get(port, ca, user=None, password=None, client=None):
    """(status, body) of GET /metrics over TLS; status 0 and the error when TLS itself fails."""
    ctx = ssl.create_default_context(cafile=ca)
    if client:
        ctx.load_cert_chain(*client)
    headers = ""
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers = f"Authorization: Basic {token}\r\n"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(f"GET /metrics HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n".encode())
                data = b""
                while chunk := s.recv(65536):
                    data += chunk
    except (OSError, ssl.SSLError) as e:
        return 0, str(e)
    head, _, body = data.decode("utf-8", "replace").partition("\r\n\r\n")
    status = int(head.split()[1]) if head.startswith("HTTP/") else 0
    return status, body


def served_fingerprint(port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw) as s:
                return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
    except (OSError, ssl.SSLError):
        return None


def file_fingerprint(path):
    der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"], capture_output=True, check=True)
    return hashlib.sha256(der.stdout).hexdigest()


def prometheus_config(path, port, d, client=False):
    tls = f"      ca_file: {d}/ca.crt\n"
    if client:
        tls += f"      cert_file: {d}/scraper.crt\n      key_file: {d}/scraper.key\n"
    write_atomically(path, "global:\n  scrape_interval: 1s\n"
                     "scrape_configs:\n  - job_name: cowwatch\n    scheme: https\n"
                     f"    tls_config:\n{tls}"
                     f"    basic_auth:\n      username: {USER}\n      password: {PASSWORD}\n"
                     f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")


def scraped_since(stack, since):
    """Prometheus scraped cowwatchd successfully after `since` (unix seconds)."""
    up = stack.query('up{job="cowwatch"}')
    last = stack.query('timestamp(cowwatch_build_info{job="cowwatch"})')
    return (up and up[0]["value"][1] == "1" and last and float(last[0]["value"][1]) > since)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cowwatchd", required=True)
    args = parser.parse_args()
    require_root("loading BPF programs")
    require_file(args.cowwatchd, "cowwatchd")
    require_tool("openssl")
    prometheus = require_tool("prometheus")

    with tempfile.TemporaryDirectory(prefix="cowwatch-tls-") as d, Stack(d) as stack:
        make_ca(d, "ca")
        make_ca(d, "otherca")
        make_ca(d, "clientca")
        make_cert(d, "server", "ca", server=True)
        make_cert(d, "server2", "ca", server=True)
        make_cert(d, "scraper", "clientca", server=False)
        ca = f"{d}/ca.crt"
        web = f"{d}/web.yml"
        write_atomically(web, web_config(d, "server"))
        port = free_port()
        config = f"{d}/cowwatch.yaml"
        with open(config, "w") as f:
            f.write(f"daemon:\n  poll_interval: 200ms\nmetrics:\n  listen: \"127.0.0.1:{port}\"\n"
                    f"  web_config_file: {web}\ncontrol_socket:\n  path: {d}/cowwatch.sock\n")
        daemon = stack._start("cowwatchd", [args.cowwatchd, "--config", config])
        if not wait_until(lambda: get(port, ca, USER, PASSWORD)[0] == 200 or not daemon.alive(), 30,
                          what="cowwatchd over TLS") or not daemon.alive():
            stack.dump_logs()
            fail("cowwatchd did not serve /metrics over TLS with basic auth")
        pid = daemon.process.pid

        # 1. Prometheus over TLS + basic auth
        prom_port = free_port()
        prom_config = f"{d}/prometheus.yml"
        prometheus_config(prom_config, port, d)
        prom = stack._start("prometheus", [prometheus, f"--config.file={prom_config}",
                                           f"--storage.tsdb.path={d}/prometheus-data",
                                           f"--web.listen-address=127.0.0.1:{prom_port}"])
        stack.prometheus_url = f"http://127.0.0.1:{prom_port}"
        if not wait_until(lambda: scraped_since(stack, 0), 60, what="Prometheus scraping over TLS"):
            stack.dump_logs()
            fail("Prometheus never scraped cowwatchd over https with basic auth")
        print("Prometheus scrapes over TLS with basic auth: up == 1, cowwatch_build_info present")

        # 2. negative cases
        status, body = get(port, ca, USER, "wrong")
        if status != 401 or "cowwatch_" in body:
            fail(f"wrong password: status {status}, metrics in body: {'cowwatch_' in body}")
        status, body = get(port, ca)
        if status != 401 or "cowwatch_" in body:
            fail(f"no password: status {status}")
        plain_status, plain_text = http("GET", f"http://127.0.0.1:{port}/metrics", timeout=5)
        if plain_status != 0 or "cowwatch_" in plain_text:
            fail(f"plain HTTP to the TLS port answered {plain_status}")
        status, why = get(port, f"{d}/otherca.crt", USER, PASSWORD)
        if status != 0:
            fail("a client trusting another CA accepted the server's certificate")
        print("wrong password 401, no password 401, plain HTTP refused, foreign CA refused")

        # 3. certificate replaced on disk, no restart
        before = served_fingerprint(port)
        for ext in ("key", "crt"):
            os.rename(f"{d}/server2.{ext}", f"{d}/server.{ext}.new")
        os.rename(f"{d}/server.key.new", f"{d}/server.key")
        os.rename(f"{d}/server.crt.new", f"{d}/server.crt")
        want = file_fingerprint(f"{d}/server.crt")
        if before == want or not wait_until(lambda: served_fingerprint(port) == want, 15,
                                            what="the replaced certificate to be served"):
            stack.dump_logs()
            fail("the replaced certificate was not picked up")
        if not daemon.alive() or daemon.process.pid != pid:
            fail("cowwatchd restarted to pick up the certificate")
        print("replaced certificate served without a restart")

        # 4. mutual TLS, switched on by editing the web config
        write_atomically(web, web_config(d, "server", mtls=True))
        client = (f"{d}/scraper.crt", f"{d}/scraper.key")
        # A refused connection while the listener restarts must not pass for "mTLS required": the
        # client without a certificate must be turned away by TLS itself (which only the new
        # listener does), and then the one with a certificate let in. (Checked the other way round,
        # a 200 from the old listener followed by a refusal from the restart once passed, and the
        # next request found no listener: ECONNREFUSED.)
        def mtls_required():
            status, error = get(port, ca, USER, PASSWORD)
            if status != 0 or "alert" not in error.lower():  # a TLS alert, not a refused or cut connection
                return False
            return get(port, ca, USER, PASSWORD, client=client)[0] == 200

        if not wait_until(mtls_required, 15, what="mTLS to be required"):
            stack.dump_logs()
            fail("after switching to RequireAndVerifyClientCert: a client without a certificate still got "
                 f"in ({get(port, ca, USER, PASSWORD)[0]}), or one with a certificate from client_ca_file "
                 f"did not ({get(port, ca, USER, PASSWORD, client=client)[0]})")
        status, body = get(port, ca, USER, "wrong", client=client)
        if status != 401:
            fail(f"mTLS client with a wrong password got {status}: {body[:200]}")
        switched = time.time()
        prometheus_config(prom_config, port, d, client=True)
        prom.process.send_signal(signal.SIGHUP)
        if not wait_until(lambda: scraped_since(stack, switched + 1), 60, what="Prometheus scraping with mTLS"):
            stack.dump_logs()
            fail("Prometheus with a client certificate did not scrape after the switch to mTLS")
        print("mutual TLS: no certificate refused, client certificate + password 200, Prometheus scrapes")

        # 5. an invalid edit keeps the running setup and says where
        with open(web, "a") as f:
            f.write("  nobody: not-a-hash\n")
        if not wait_until(lambda: "not a bcrypt hash" in daemon.tail(200), 15, what="the invalid edit to be logged"):
            fail("an invalid web config edit was not logged")
        if f"{web}:" not in daemon.tail(200):
            fail("the log of an invalid web config does not name the file")
        status, _ = get(port, ca, USER, PASSWORD, client=client)
        if status != 200 or not daemon.alive() or daemon.process.pid != pid:
            fail("an invalid web config edit broke the running endpoint")
        print("invalid edit: logged with file and line, the running setup kept")


if __name__ == "__main__":
    main()
