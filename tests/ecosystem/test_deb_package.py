#!/usr/bin/env python3
"""The Debian package: build it from the build tree with CPack, install it into a clean root
with dpkg (--root, --unpack: no maintainer scripts run outside a chroot), check what landed
where, that the shipped dashboards/rules are the ones the other tests used, that the unit's
ExecStart exists in the package, and that the installed daemon accepts the installed config
(`cowwatchd --check-config`, run from the unpacked tree with the host's libraries).

usage: test_deb_package.py BUILD_DIR SOURCE_DIR COWWATCHD COWWATCH_CLI DASHBOARD.json...
"""
import filecmp
import glob
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fail, require_file, require_tool, run  # noqa: E402

EXPECTED = [
    "usr/sbin/cowwatchd",
    "usr/bin/cowwatch",
    "etc/cowwatch/cowwatch.yaml",
    "usr/lib/systemd/system/cowwatch.service",
    "usr/share/cowwatch/prometheus/cowwatch-rules.yml",
    "usr/share/cowwatch/prometheus/cowwatch-rules.test.yml",
    "usr/share/cowwatch/prometheus/prometheus.example.yml",
    "usr/share/cowwatch/prometheus/alertmanager.example.yml",
    "usr/share/cowwatch/kubernetes/daemonset.yaml",
    "usr/share/doc/cowwatch/deployment.md",
]


def dpkg_files(root):
    files = []
    for dirpath, _, names in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == "var" or rel.startswith("var" + os.sep):
            continue
        files += [os.path.normpath(os.path.join(rel, n)) for n in names]
    return sorted(files)


def main():
    build_dir, source_dir, cowwatchd, cli, dashboards = (sys.argv[1], sys.argv[2], sys.argv[3],
                                                         sys.argv[4], sys.argv[5:])
    cpack = require_tool("cpack")
    dpkg = require_tool("dpkg")
    dpkg_deb = require_tool("dpkg-deb")
    require_tool("dpkg-shlibdeps")
    if os.geteuid() != 0:
        require_tool("fakeroot")
    # CPack installs the whole project: everything with an install rule must be built.
    require_file(cowwatchd, "cowwatchd")
    require_file(cli, "the cowwatch CLI")
    config = os.path.join(build_dir, "CPackConfig.cmake")
    require_file(config, "CPackConfig.cmake")

    with tempfile.TemporaryDirectory(prefix="cw-deb-") as tmp:
        out = os.path.join(tmp, "out")
        result = run([cpack, "-G", "DEB", "--config", config, "-B", out], timeout=150, cwd=build_dir)
        print(result.stdout[-3000:] + result.stderr[-3000:], end="")
        debs = glob.glob(os.path.join(out, "*.deb"))
        if result.returncode != 0 or len(debs) != 1:
            fail(f"cpack did not produce one .deb (rc {result.returncode}, {debs})")
        deb = debs[0]
        print(f"package: {os.path.basename(deb)} ({os.path.getsize(deb)} bytes)")

        info = run([dpkg_deb, "--info", deb]).stdout
        print(info)
        for field, pattern in (("Package", r"cowwatch"), ("Architecture", r"amd64|arm64|\S+"),
                               ("Depends", r".*libbpf1.*"), ("Maintainer", r".+")):
            if not re.search(rf"^ {field}: {pattern}$", info, re.M):
                fail(f"control field {field} missing or not matching {pattern!r}")
        for script in ("postinst", "prerm", "postrm", "conffiles"):
            if not re.search(rf"^\s+\d+ bytes,\s+\d+ lines\s+\*?\s*{script}\b", info, re.M):
                fail(f"control member {script} missing from the package")

        # dpkg itself accepts the package into an empty database (--unpack runs no maintainer
        # script: outside a chroot with a shell they would act on this host) and registers the
        # configuration as a conffile.
        dbroot = os.path.join(tmp, "dpkg-root")
        admindir = os.path.join(dbroot, "var/lib/dpkg")
        for sub in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(admindir, sub))
        open(os.path.join(admindir, "status"), "w").close()
        result = run([dpkg, f"--root={dbroot}", "--force-depends", "--force-not-root",
                      "--force-bad-path", "--unpack", deb], timeout=60)
        print(result.stdout + result.stderr, end="")
        if result.returncode != 0:
            fail("dpkg --unpack into a clean root failed")
        status = run([dpkg, f"--root={dbroot}", "--status", "cowwatch"]).stdout
        if "Conffiles:" not in status or "/etc/cowwatch/cowwatch.yaml" not in status:
            fail(f"/etc/cowwatch/cowwatch.yaml is not a registered conffile:\n{status}")
        listed = run([dpkg, f"--root={dbroot}", "--listfiles", "cowwatch"]).stdout.split()

        # The files as they are after configuration (conffiles no longer *.dpkg-new).
        root = os.path.join(tmp, "root")
        result = run([dpkg_deb, "-x", deb, root])
        if result.returncode != 0:
            fail(f"dpkg-deb -x failed: {result.stderr}")
        files = dpkg_files(root)
        print("installed files:\n  " + "\n  ".join(files))
        unlisted = [f for f in files if "/" + f not in listed]
        if unlisted:
            fail(f"dpkg --listfiles does not know {unlisted}")
        for path in EXPECTED + [f"usr/share/cowwatch/dashboards/{os.path.basename(d)}" for d in dashboards]:
            if path not in files:
                fail(f"{path} not installed by the package")
        strays = [f for f in files if f.startswith(("usr/etc/", "usr/local/", "etc/") )
                  and not f.startswith("etc/cowwatch/")]
        if strays:
            fail(f"files outside the Debian layout: {strays}")

        # The shipped artifacts are exactly those the other ecosystem tests check.
        pairs = [(d, f"usr/share/cowwatch/dashboards/{os.path.basename(d)}") for d in dashboards]
        pairs += [(os.path.join(source_dir, "packaging/prometheus/cowwatch-rules.yml"),
                   "usr/share/cowwatch/prometheus/cowwatch-rules.yml"),
                  (os.path.join(source_dir, "packaging/systemd/cowwatch.service"),
                   "usr/lib/systemd/system/cowwatch.service"),
                  (os.path.join(source_dir, "config/cowwatch.yaml"), "etc/cowwatch/cowwatch.yaml")]
        for tree_file, installed in pairs:
            if not filecmp.cmp(tree_file, os.path.join(root, installed), shallow=False):
                fail(f"{installed} differs from {tree_file}")

        with open(os.path.join(root, "usr/lib/systemd/system/cowwatch.service"), encoding="utf-8") as f:
            exec_start = re.search(r"^ExecStart=(\S+)", f.read(), re.M).group(1)
        if not os.access(os.path.join(root, exec_start.lstrip("/")), os.X_OK):
            fail(f"the unit's ExecStart {exec_start} is not an executable in the package")

        daemon = os.path.join(root, "usr/sbin/cowwatchd")
        result = run([daemon, "--check-config", os.path.join(root, "etc/cowwatch/cowwatch.yaml")])
        print(f"installed cowwatchd --check-config: rc {result.returncode}\n{result.stdout}{result.stderr}", end="")
        if result.returncode != 0:
            fail("the installed daemon rejects the installed configuration")
        result = run([os.path.join(root, "usr/bin/cowwatch"), "--help"])
        if result.returncode != 0:
            fail(f"the installed cowwatch CLI does not run: {result.stderr}")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
