#!/usr/bin/env python3
"""The Debian package: build it from the build tree with CPack, install it into a clean root
with dpkg (--root, --unpack: no maintainer scripts run outside a chroot), check what landed
where, that the shipped dashboards/rules/units are the ones the other tests used, that the unit's
ExecStart exists in the package, and that the installed daemon accepts the installed config
(`cowwatchd --check-config`, run from the unpacked tree with the host's libraries). Metadata:
the version names the Debian release it was built on (0.1.0-1~deb12), the maintainer is an
address, the changelog's newest entry is this version, Depends has no yaml-cpp (linked
statically: one package for Debian 12 and 13), and lintian reports no error.

usage: test_deb_package.py BUILD_DIR SOURCE_DIR COWWATCHD COWWATCH_CLI DASHBOARD.json...
"""
import filecmp
import gzip
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import build_deb, fail, require_file, require_tool, run  # noqa: E402

EXPECTED = [
    "usr/sbin/cowwatchd",
    "usr/bin/cowwatch",
    "etc/cowwatch/cowwatch.yaml",
    "usr/lib/systemd/system/cowwatch.service",
    "usr/lib/systemd/system/cowwatch.socket",
    "usr/lib/sysusers.d/cowwatch.conf",
    "usr/share/doc/cowwatch/copyright",
    "usr/share/doc/cowwatch/changelog.Debian.gz",
    "usr/share/man/man8/cowwatchd.8.gz",
    "usr/share/man/man1/cowwatch.1.gz",
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


def os_release_id():
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            match = re.search(r'^VERSION_ID="?(\d+)', f.read(), re.M)
    except OSError:
        return None
    return match.group(1) if match else None


def check_metadata(info, root):
    """Version with the build host's release, a real maintainer address, changelog = version,
    no shared yaml-cpp."""
    fields = dict(re.findall(r"^ ([A-Za-z-]+): (.*)$", info, re.M))
    version = fields.get("Version", "")
    release = os_release_id()
    suffix = f"-1~deb{release}" if release else "-1"
    if not version.endswith(suffix):
        fail(f"Version {version!r} does not end in {suffix!r} (the Debian release it was built on)")
    maintainer = fields.get("Maintainer", "")
    match = re.fullmatch(r"[^<>]+ <[^@<>\s]+@([^@<>\s]+\.[^@<>\s]+)>", maintainer)
    if not match or match.group(1) in ("localhost", "localdomain"):
        fail(f"Maintainer {maintainer!r} is not 'Name <user@host.domain>'")
    if "yaml" in fields.get("Depends", ""):
        fail(f"Depends names yaml-cpp ({fields['Depends']}): it must be linked statically")
    with gzip.open(os.path.join(root, "usr/share/doc/cowwatch/changelog.Debian.gz"), "rt") as f:
        first = f.readline()
    if not first.startswith(f"cowwatch ({version}) "):
        fail(f"changelog's newest entry {first.strip()!r} is not version {version}")
    print(f"metadata: Version {version}, Maintainer {maintainer}, changelog {first.strip()}")


def check_lintian(lintian, deb):
    """lintian's verdict on the binary package: no error (E:) tags; warnings are printed."""
    result = run([lintian, "--tag-display-limit", "0", deb], timeout=240)
    tags = [line for line in (result.stdout + result.stderr).splitlines() if re.match(r"^[EWIXP]: ", line)]
    print("lintian:\n  " + ("\n  ".join(tags) if tags else "(no tags)"))
    errors = [t for t in tags if t.startswith("E: ")]
    if errors or result.returncode not in (0, 1):
        fail(f"lintian reports errors (rc {result.returncode}): {errors or result.stderr[-800:]}")


def main():
    build_dir, source_dir, cowwatchd, cli, dashboards = (sys.argv[1], sys.argv[2], sys.argv[3],
                                                         sys.argv[4], sys.argv[5:])
    dpkg = require_tool("dpkg")
    dpkg_deb = require_tool("dpkg-deb")
    lintian = require_tool("lintian")
    # CPack installs the whole project: everything with an install rule must be built.
    require_file(cowwatchd, "cowwatchd")
    require_file(cli, "the cowwatch CLI")

    with tempfile.TemporaryDirectory(prefix="cw-deb-") as tmp:
        deb = build_deb(build_dir, os.path.join(tmp, "out"))

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
                  (os.path.join(source_dir, "packaging/systemd/cowwatch.socket"),
                   "usr/lib/systemd/system/cowwatch.socket"),
                  (os.path.join(source_dir, "packaging/systemd/cowwatch.sysusers"),
                   "usr/lib/sysusers.d/cowwatch.conf"),
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
        check_metadata(info, root)
        check_lintian(lintian, deb)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
