"""Resolve, download and cache Debian cloud kernels.

Each kernel target ("6.1", "6.12", "newest") has its own private apt state under the cache directory
(a deb822 sources file, a lists dir and a pkgcache dir), so the system's apt state is never touched
and "newest" can only resolve to a package of its own suite. Names are resolved by pattern at run
time; .debs and the extracted trees are cached under CACHE_ROOT (outside the clone).

A resolved kernel is a directory kernels/<package>_<version>/ holding the extracted packages
(root/), and kernel.json: {release, vmlinuz, config, moddir, packages}.
"""

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field

CACHE_ROOT = os.environ.get("COWVM_CACHE", "/var/cache/cowwatch-vm")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
MIRROR = os.environ.get("COWVM_MIRROR", "http://deb.debian.org")  # .../debian and .../debian-security
LISTS_MAX_AGE_S = 6 * 3600  # refresh apt lists at most this often

# target -> (suites, security suites, package-name regex of the kernel image to resolve)
TARGETS = {
    # 5.10: some ABIs listed in bullseye-security 404 on the mirror (measured: -44, -45, -46), so
    # fetch() falls back to the next newest whose .deb downloads.
    "5.10": (["bullseye", "bullseye-updates"], ["bullseye-security"],
             r"^linux-image-(5\.10\.0-\d+)-cloud-amd64-unsigned$"),
    "6.1": (["bookworm", "bookworm-updates"], ["bookworm-security"],
            r"^linux-image-(6\.1\.0-\d+)-cloud-amd64-unsigned$"),
    "6.12": (["trixie", "trixie-updates"], ["trixie-security"],
             r"^linux-image-(6\.12\.\d+\+deb\d+)-cloud-amd64-unsigned$"),
    "newest": (["sid"], [],
               r"^linux-image-(\d+\.\d+(?:\.\d+)?(?:-\d+)?(?:\+deb\d+)?)-cloud-amd64(?:-unsigned)?$"),
    # arm64 (qemu-system-aarch64 -M virt; cross-built binaries): the same Debian releases' cloud kernels
    "arm64-6.1": (["bookworm", "bookworm-updates"], ["bookworm-security"],
                  r"^linux-image-(6\.1\.0-\d+)-cloud-arm64-unsigned$"),
    "arm64-6.12": (["trixie", "trixie-updates"], ["trixie-security"],
                   r"^linux-image-(6\.12\.\d+\+deb\d+)-cloud-arm64-unsigned$"),
}
# Debian architecture of a target's kernel (and of the userland its initramfs needs); amd64 unless listed.
TARGET_ARCH = {"arm64-6.1": "arm64", "arm64-6.12": "arm64"}


def arch_of(target):
    return TARGET_ARCH.get(target, "amd64")


class RegistryError(Exception):
    """The package registry could not be reached and nothing usable is cached."""


@dataclass
class Kernel:
    target: str
    name: str               # e.g. linux-image-6.1.0-50-cloud-amd64-unsigned_6.1.176-1
    directory: str
    release: str            # uname -r
    vmlinuz: str
    config: str
    moddir: str             # .../lib/modules/<release>
    packages: list = field(default_factory=list)

    @property
    def booted_stamp(self):
        return os.path.join(self.directory, "booted-ok")

    def mark_booted(self):
        with open(self.booted_stamp, "w") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%S\n"))

    def has_booted(self):
        return os.path.exists(self.booted_stamp)


def _version_key(text):
    """Debian-ish version ordering good enough for kernel versions (numbers compared numerically)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


class AptState:
    """A private apt configuration for one target."""

    def __init__(self, target):
        self.target = target
        self.root = os.path.join(CACHE_ROOT, "apt", target)
        self.sources = os.path.join(self.root, "sources.sources")
        self.lists = os.path.join(self.root, "lists")
        self.cache = os.path.join(self.root, "cache")
        suites, security, _ = TARGETS[target]
        os.makedirs(os.path.join(self.lists, "partial"), exist_ok=True)
        os.makedirs(os.path.join(self.cache, "archives", "partial"), exist_ok=True)
        text = ("Types: deb\nURIs: %s/debian\nSuites: %s\nComponents: main\n"
                "Signed-By: %s\n" % (MIRROR, " ".join(suites), KEYRING))
        if security:
            text += ("\nTypes: deb\nURIs: %s/debian-security\nSuites: %s\n"
                     "Components: main\nSigned-By: %s\n" % (MIRROR, " ".join(security), KEYRING))
        with open(self.sources, "w") as f:
            f.write(text)

    def options(self):
        return ["-o", "Dir::Etc::SourceList=" + self.sources, "-o", "Dir::Etc::SourceParts=/dev/null",
                "-o", "Dir::State::Lists=" + self.lists, "-o", "Dir::Cache=" + self.cache,
                "-o", "Dir::State::status=/dev/null", "-o", "Debug::NoLocking=1",
                "-o", "APT::Architecture=" + arch_of(self.target), "-o", "APT::Architectures::=" + arch_of(self.target),
                "-o", "Acquire::Retries=2", "-o", "Acquire::http::Timeout=20"]

    def _have_lists(self):
        return any(n.endswith("_InRelease") for n in os.listdir(self.lists))

    def _lists_age(self):
        try:
            return time.time() - os.path.getmtime(os.path.join(self.root, "updated.stamp"))
        except OSError:
            return float("inf")

    def update(self, log, force=False):
        """apt-get update unless fresh lists exist. Returns a note (or None) on fallback to stale lists."""
        if not force and self._lists_age() < LISTS_MAX_AGE_S:
            return None
        proc = subprocess.run(["apt-get", *self.options(), "-q", "update"], capture_output=True, text=True)
        failed = proc.returncode != 0 or re.search(r"^(W|E): Failed to fetch", proc.stdout + proc.stderr, re.M)
        if failed:
            if self._have_lists():
                return "apt-get update failed; using cached lists (%s)" % proc.stderr.strip().splitlines()[-1:]
            raise RegistryError("apt-get update for %s failed: %s" % (self.target, (proc.stdout + proc.stderr)[-800:]))
        with open(os.path.join(self.root, "updated.stamp"), "w") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
        log("apt lists for %s updated" % self.target)
        return None

    def pkgnames(self, prefix):
        out = subprocess.run(["apt-cache", *self.options(), "pkgnames", prefix],
                             capture_output=True, text=True, check=True).stdout
        return out.split()

    def show(self, package):
        """Fields of the candidate (highest) version of a package."""
        out = subprocess.run(["apt-cache", *self.options(), "show", "--no-all-versions", package],
                             capture_output=True, text=True).stdout
        fields = {}
        for line in out.splitlines():
            m = re.match(r"^([A-Za-z-]+): (.*)$", line)
            if m:
                fields.setdefault(m.group(1), m.group(2))
        return fields

    def show_all(self, packages):
        """Records (dicts) of every version of the given packages, in one apt-cache call."""
        if not packages:
            return []
        out = subprocess.run(["apt-cache", *self.options(), "show", *packages],
                             capture_output=True, text=True).stdout
        records = []
        for para in out.split("\n\n"):
            fields = {}
            for line in para.splitlines():
                m = re.match(r"^([A-Za-z-]+): (.*)$", line)
                if m:
                    fields.setdefault(m.group(1), m.group(2))
            if fields:
                records.append(fields)
        return records

    def download(self, package, version, destdir, log):
        """Download package=version into destdir (cached). Returns the .deb path."""
        os.makedirs(destdir, exist_ok=True)
        for n in os.listdir(destdir):
            if n.startswith(package + "_") and n.endswith(".deb") and _deb_version(n) == version:
                return os.path.join(destdir, n)
        log("downloading %s=%s" % (package, version))
        proc = subprocess.run(["apt-get", *self.options(), "-q", "download", "%s=%s" % (package, version)],
                              cwd=destdir, capture_output=True, text=True)
        for n in os.listdir(destdir):
            if n.startswith(package + "_") and n.endswith(".deb") and _deb_version(n) == version:
                return os.path.join(destdir, n)
        raise RegistryError("apt-get download %s=%s failed: %s" % (package, version, proc.stderr[-800:]))


def _deb_version(filename):
    # name_version_arch.deb; ':' in the version is URL-encoded as %3a
    parts = filename[:-4].split("_")
    return parts[1].replace("%3a", ":") if len(parts) == 3 else None


def _locked(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    f = open(path, "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def resolve_name(apt, target):
    """Newest package matching the target's pattern: (image package, version)."""
    return resolve_candidates(apt, target)[0]


def resolve_candidates(apt, target):
    """Every package matching the target's pattern, newest first: [(image package, version)]."""
    pattern = re.compile(TARGETS[target][2])
    prefix = "linux-image-"
    names = [n for n in apt.pkgnames(prefix) if pattern.match(n)]
    candidates = [(_version_key(fields["Version"]), fields["Package"], fields["Version"])
                  for fields in apt.show_all(names) if "Version" in fields and "Package" in fields]
    if not candidates:
        raise RegistryError("no package matches %s in the %s lists" % (TARGETS[target][2], target))
    # Newest first; of equal versions, -unsigned before a signed package.
    candidates.sort(key=lambda c: (c[0], c[1].endswith("-unsigned")), reverse=True)
    return [(c[1], c[2]) for c in candidates]


def _resolve_cached(apt, target, skip=()):
    """resolve_name() (skipping packages in `skip`), memoised until the apt lists change (apt-cache
    takes ~1 s per call)."""
    memo = os.path.join(apt.root, "resolved.json")
    stamp = max([os.path.getmtime(os.path.join(apt.lists, n)) for n in os.listdir(apt.lists)
                 if n.endswith("_InRelease")] or [0])
    try:
        with open(memo) as f:
            data = json.load(f)
        if data["lists_mtime"] == stamp and (data["image"], data["version"]) not in skip:
            return data["image"], data["version"]
    except (OSError, ValueError, KeyError):
        pass
    candidates = [c for c in resolve_candidates(apt, target) if c not in skip]
    if not candidates:
        raise RegistryError("no downloadable package matches %s for %s" % (TARGETS[target][2], target))
    image, version = candidates[0]
    with open(memo, "w") as f:
        json.dump({"lists_mtime": stamp, "image": image, "version": version}, f)
    return image, version


def packages_for(apt, image, version):
    """The image package plus the linux-* packages it depends on at the same version (meta images)."""
    fields = apt.show(image)
    pkgs = [(image, version)]
    for dep in re.split(r",\s*", fields.get("Depends", "")):
        alternatives = [a.strip() for a in dep.split("|")]
        for alt in alternatives:
            m = re.match(r"^(linux-(?:binary|modules|base|image)[^\s(]*)\s*(?:\(= ([^)]+)\))?", alt)
            if m and m.group(2) == version:
                pkgs.append((m.group(1), version))
                break
    return pkgs


def _find_tree(root):
    """Locate vmlinuz, config and the module dir inside an extracted package tree."""
    moddirs = []
    for base in ("lib/modules", "usr/lib/modules"):
        d = os.path.join(root, base)
        if os.path.isdir(d):
            moddirs += [os.path.join(d, n) for n in os.listdir(d) if os.path.isdir(os.path.join(d, n))]
    if len(moddirs) != 1:
        raise RuntimeError("expected one module dir in %s, found %s" % (root, moddirs))
    moddir = moddirs[0]
    release = os.path.basename(moddir)
    vmlinuz = config = None
    for cand in ("boot/vmlinuz-" + release, "boot/vmlinuz", "lib/modules/%s/vmlinuz" % release,
                 "usr/lib/modules/%s/vmlinuz" % release):
        if os.path.isfile(os.path.join(root, cand)):
            vmlinuz = os.path.join(root, cand)
            break
    for dirpath, _, files in os.walk(root):
        for n in files:
            if n in ("config-" + release, "config") and _looks_like_kconfig(os.path.join(dirpath, n)):
                config = os.path.join(dirpath, n)
                break
        if config:
            break
    if not vmlinuz:
        raise RuntimeError("no vmlinuz for %s under %s" % (release, root))
    if not config:
        raise RuntimeError("no kernel config for %s under %s" % (release, root))
    return release, vmlinuz, config, moddir


def _looks_like_kconfig(path):
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
        return b"CONFIG_" in head and b"Kernel Configuration" in head
    except OSError:
        return False


def _load_kernel(target, directory):
    with open(os.path.join(directory, "kernel.json")) as f:
        info = json.load(f)
    return Kernel(target=target, name=os.path.basename(directory), directory=directory, **info)


def fetch(target, log=lambda s: None, force_update=False):
    """Resolve and provision the newest kernel for target. Returns (Kernel, notes)."""
    notes = []
    lock = _locked(os.path.join(CACHE_ROOT, "locks", target + ".lock"))
    try:
        apt = AptState(target)
        note = apt.update(log, force=force_update)
        if note:
            notes.append(note)
        # A version the index lists may be missing on the mirror (404): try the next newest.
        failed = []
        while True:
            image, version = _resolve_cached(apt, target, skip=failed)
            name = "%s_%s" % (image, version)
            directory = os.path.join(CACHE_ROOT, "kernels", name)
            if os.path.exists(os.path.join(directory, "kernel.json")):
                return _load_kernel(target, directory), notes
            try:
                debs = [apt.download(p, v, os.path.join(CACHE_ROOT, "debs"), log)
                        for p, v in packages_for(apt, image, version)]
                break
            except RegistryError as e:
                if len(failed) >= 4:
                    raise
                failed.append((image, version))
                notes.append("%s=%s did not download (%s); trying the next newest" % (image, version, str(e)[-120:]))
        tmp = directory + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        root = os.path.join(tmp, "root")
        os.makedirs(root)
        for deb in debs:
            subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
        release, vmlinuz, config, moddir = _find_tree(root)
        info = {"release": release, "packages": [os.path.basename(d) for d in debs],
                "vmlinuz": vmlinuz.replace(tmp, directory), "config": config.replace(tmp, directory),
                "moddir": moddir.replace(tmp, directory)}
        with open(os.path.join(tmp, "kernel.json"), "w") as f:
            json.dump(info, f, indent=1)
        shutil.rmtree(directory, ignore_errors=True)
        os.rename(tmp, directory)
        log("kernel %s ready: %s" % (release, directory))
        return _load_kernel(target, directory), notes
    finally:
        lock.close()


def cached(target):
    """Kernels of a target already provisioned on disk, newest first."""
    pattern = re.compile(TARGETS[target][2])
    base = os.path.join(CACHE_ROOT, "kernels")
    found = []
    if os.path.isdir(base):
        for n in os.listdir(base):
            image, _, version = n.partition("_")
            if pattern.match(image) and os.path.exists(os.path.join(base, n, "kernel.json")):
                found.append((_version_key(version), n))
    found.sort(reverse=True)
    return [_load_kernel(target, os.path.join(base, n)) for _, n in found]


def fetch_or_cached(target, log=lambda s: None):
    """Like fetch(), but falls back to the newest cached kernel when the registry is unreachable."""
    try:
        return fetch(target, log)
    except RegistryError as e:
        kernels = cached(target)
        if not kernels:
            raise
        return kernels[0], ["registry unreachable (%s); using cached %s" % (str(e)[:200], kernels[0].name)]


def find_module(kernel, name):
    """Path of module `name` (.ko or .ko.xz/.ko.zst) in the kernel's tree, or None."""
    wanted = {name + ".ko", name + ".ko.xz", name + ".ko.zst", name.replace("_", "-") + ".ko",
              name.replace("_", "-") + ".ko.xz", name.replace("_", "-") + ".ko.zst"}
    for dirpath, _, files in os.walk(kernel.moddir):
        for n in files:
            if n in wanted:
                return os.path.join(dirpath, n)
    return None


def module_depends(path):
    out = subprocess.run(["modinfo", "-F", "depends", path], capture_output=True, text=True).stdout.strip()
    return [d for d in out.split(",") if d]


def decompressed_module(kernel, name):
    """A plain .ko for module `name` (decompressed once into the kernel's cache dir), or None."""
    src = find_module(kernel, name)
    if src is None:
        return None
    outdir = os.path.join(kernel.directory, "ko")
    os.makedirs(outdir, exist_ok=True)
    dst = os.path.join(outdir, name + ".ko")
    if not os.path.exists(dst):
        tmp = dst + ".tmp"
        if src.endswith(".xz"):
            with open(tmp, "wb") as f:
                subprocess.run(["xz", "-dc", src], stdout=f, check=True)
        elif src.endswith(".zst"):
            with open(tmp, "wb") as f:
                subprocess.run(["zstd", "-dcq", src], stdout=f, check=True)
        else:
            shutil.copyfile(src, tmp)
        os.rename(tmp, dst)
    return dst


def modules_with_deps(kernel, names):
    """Ordered list of (name, .ko path): dependencies first; modules missing in this kernel (built in) skipped."""
    ordered, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        src = find_module(kernel, n)
        if src is None:
            return
        for d in module_depends(src):
            visit(d)
        ordered.append((n, decompressed_module(kernel, n)))

    for n in names:
        visit(n)
    return ordered
