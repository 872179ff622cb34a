"""Debian root file systems with systemd as PID 1 for the fleethost tier.

Built with mmdebstrap from Debian's packages (its own apt state: the host's is never touched),
configured for a headless test boot, and cached as a raw ext4 image under CACHE_ROOT, outside the
clone. The cache key is the suite, the package list and the guest setup below: an image is
rebuilt only when missing (QEMU opens it with snapshot=on, so a run never changes it).

The guest has no network: everything the checks and cowwatch's .deb need is installed here, and
the checks verify with dpkg that nothing is missing. At boot, fleet-test.service unpacks the
payload disk (/dev/vdb, a tar: guest.sh and the .deb) into /run/fleet, runs guest.sh with its
output on the second serial port (/dev/ttyS1) and powers the machine off.
"""

import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import time

CACHE_ROOT = os.environ.get("COWWATCH_FLEET_CACHE", "/var/cache/cowwatch-fleet")
MIRROR = os.environ.get("COWVM_MIRROR", "http://deb.debian.org") + "/debian"
IMAGE_SIZE = "2G"

# systemd as PID 1 (udev for the disks, dbus for systemctl's peers), bpftool for the leftover
# check, and cowwatch's runtime libraries (libelf, libcivetweb and prometheus-cpp-core come with
# these); prometheus scrapes the daemon in the guest, curl talks to both over HTTP(S) (and brings
# libssl3, which civetweb loads for TLS); no suite-specific names, so one list serves Debian 12 and 13.
PACKAGES = ["systemd", "systemd-sysv", "udev", "dbus", "bpftool", "libbpf1",
            "libprometheus-cpp-pull1.0", "libsystemd0", "libcap-ng0", "prometheus", "curl"]

# Timers and jobs that would only compete with the test for the one emulated CPU.
MASKED = ["apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_reap.service",
          "e2scrub_all.timer", "fstrim.timer", "systemd-tmpfiles-clean.timer"]
# Enabled by their packages, started by the checks only when needed (guest.sh configures it first).
DISABLED = ["prometheus.service"]

LAUNCHER = """#!/bin/sh
# Unpack the payload disk and run its guest.sh; results go to the second serial port.
exec >/dev/ttyS1 2>&1
echo "@@FLEET START uptime=$(cut -d' ' -f1 /proc/uptime)@@"
mkdir -p /run/fleet && tar -xf /dev/vdb -C /run/fleet && bash /run/fleet/guest.sh
echo "@@FLEET EXIT rc=$? uptime=$(cut -d' ' -f1 /proc/uptime)@@"
sync
systemctl poweroff --no-block
"""

RUNNER_UNIT = """[Unit]
Description=fleethost test payload
ConditionPathExists=/dev/vdb
After=multi-user.target

[Service]
Type=simple
ExecStart=/usr/local/sbin/fleet-run

[Install]
WantedBy=multi-user.target
"""

GUEST_FILES = {
    "etc/hostname": ("fleet-guest\n", 0o644),
    "etc/fstab": ("/dev/vda / ext4 rw 0 0\n", 0o644),
    "usr/local/sbin/fleet-run": (LAUNCHER, 0o755),
    "etc/systemd/system/fleet-test.service": (RUNNER_UNIT, 0o644),
}


def cache_key(suite):
    recipe = {"suite": suite, "mirror": MIRROR, "packages": PACKAGES, "masked": MASKED,
              "disabled": DISABLED, "files": GUEST_FILES, "size": IMAGE_SIZE}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def configure(root):
    """The guest setup, on the unpacked root file system."""
    for rel, (text, mode) in GUEST_FILES.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
    system = os.path.join(root, "etc/systemd/system")
    for unit in MASKED:
        path = os.path.join(system, unit)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink("/dev/null", path)
    wants = os.path.join(system, "multi-user.target.wants")
    os.makedirs(wants, exist_ok=True)
    for unit in DISABLED:
        path = os.path.join(wants, unit)
        if os.path.lexists(path):
            os.unlink(path)
    os.symlink("/etc/systemd/system/fleet-test.service", os.path.join(wants, "fleet-test.service"))


def ensure(suite, log):
    """Path of the cached image for suite, building it first when missing. Returns (path, note)."""
    os.makedirs(os.path.join(CACHE_ROOT, "images"), exist_ok=True)
    key = cache_key(suite)
    image = os.path.join(CACHE_ROOT, "images", "%s-%s.img" % (suite, key))
    with open(os.path.join(CACHE_ROOT, "images", suite + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(image):
            return image, "cached image %s" % os.path.basename(image)
        start = time.monotonic()
        root = image + ".root"
        shutil.rmtree(root, ignore_errors=True)
        log("building the %s root file system with mmdebstrap (%s)" % (suite, ", ".join(PACKAGES)))
        proc = subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase", "--include=" + ",".join(PACKAGES),
                               "--aptopt=Acquire::Retries \"3\"", suite, root,
                               "deb %s %s main" % (MIRROR, suite)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError("mmdebstrap %s failed:\n%s" % (suite, (proc.stdout + proc.stderr)[-3000:]))
        debstrap_s = time.monotonic() - start
        configure(root)
        tmp = image + ".tmp"
        subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", root, tmp, IMAGE_SIZE], check=True)
        shutil.rmtree(root)
        os.rename(tmp, image)
        for old in glob.glob(os.path.join(CACHE_ROOT, "images", suite + "-*.img")):
            if old != image:
                os.unlink(old)  # an image of an older recipe
        return image, "built %s in %.0f s (mmdebstrap %.0f s)" % (os.path.basename(image),
                                                                 time.monotonic() - start, debstrap_s)
