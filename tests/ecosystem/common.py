"""Shared helpers of the ecosystem tests (python3, stdlib only).

Exit codes follow ctest's convention here: 0 pass, 1 fail, 77 skip. A missing prerequisite skips
with a reason, except under CI=true, where it fails: CI must have everything installed.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

SKIP = 77


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def skip(reason):
    """A prerequisite is missing: skip (exit 77), or fail under CI=true."""
    if in_ci():
        print(f"FAIL: prerequisite missing under CI=true: {reason}", flush=True)
        sys.exit(1)
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def require_tool(name):
    path = shutil.which(name)
    if not path:
        skip(f"{name} not found in PATH (Debian packages: see scripts/install-deps.sh)")
    return path


def require_root(what):
    if os.geteuid() != 0:
        skip(f"{what} needs root")


def require_file(path, what):
    if not path or not os.path.exists(path):
        skip(f"{what} not found at {path!r} (build it first)")
    return path


def run(cmd, timeout=60, **kwargs):
    """Runs cmd, returns CompletedProcess with text output; never raises on exit status."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)


def free_port():
    """A TCP port free on loopback right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=5):
    """Returns (status, text). Network errors give status 0 and the error text."""
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def get_json(url, timeout=5):
    status, text = http("GET", url, timeout=timeout)
    if status != 200:
        return None
    return json.loads(text)


def wait_until(predicate, timeout, interval=0.2, what="condition"):
    """Polls predicate() until it returns a truthy value; returns it, or None after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            print(f"timed out after {timeout}s waiting for {what}", flush=True)
            return None
        time.sleep(interval)


def build_deb(build_dir, out_dir, timeout=150):
    """The Debian package built with CPack from build_dir into out_dir; fails unless exactly one
    .deb comes out. Returns its path."""
    import glob
    cpack = require_tool("cpack")
    require_tool("dpkg-shlibdeps")
    if os.geteuid() != 0:
        require_tool("fakeroot")
    config = require_file(os.path.join(build_dir, "CPackConfig.cmake"), "CPackConfig.cmake")
    result = run([cpack, "-G", "DEB", "--config", config, "-B", out_dir], timeout=timeout, cwd=build_dir)
    debs = glob.glob(os.path.join(out_dir, "*.deb"))
    if result.returncode != 0 or len(debs) != 1:
        print(result.stdout[-3000:] + result.stderr[-3000:], end="")
        fail(f"cpack did not produce one .deb (rc {result.returncode}, {debs})")
    print(f"package: {os.path.basename(debs[0])} ({os.path.getsize(debs[0])} bytes)")
    return debs[0]
