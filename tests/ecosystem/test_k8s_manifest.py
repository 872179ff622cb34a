#!/usr/bin/env python3
"""packaging/kubernetes/daemonset.yaml: well-formed YAML (python3-yaml), the expected objects,
the same capabilities as the systemd unit, the metrics port the embedded config listens on,
and (when the daemon is built) `cowwatchd --check-config` accepts its ConfigMap's cowwatch.yaml.

usage: test_k8s_manifest.py DAEMONSET.yaml UNIT_FILE [COWWATCHD]
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fail, in_ci, run, skip  # noqa: E402

try:
    import yaml
except ImportError:
    yaml = None


def unit_capabilities(unit_path):
    with open(unit_path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("AmbientCapabilities="):
                return sorted(c.removeprefix("CAP_") for c in line.split("=", 1)[1].split())
    fail("unit has no AmbientCapabilities=")


def main():
    manifest, unit = sys.argv[1], sys.argv[2]
    cowwatchd = sys.argv[3] if len(sys.argv) > 3 else ""
    if yaml is None:
        skip("python3 module yaml (Debian python3-yaml) not available: cannot parse the manifest")
    with open(manifest, encoding="utf-8") as f:
        try:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            fail(f"{manifest}: not well-formed YAML: {e}")
    by_kind = {d.get("kind"): d for d in docs}
    for kind in ("Namespace", "ConfigMap", "DaemonSet"):
        if kind not in by_kind:
            fail(f"{manifest}: no {kind}")
        if not by_kind[kind].get("apiVersion") or not by_kind[kind].get("metadata", {}).get("name"):
            fail(f"{manifest}: {kind} lacks apiVersion or metadata.name")

    daemonset = by_kind["DaemonSet"]
    spec = daemonset["spec"]
    if spec["selector"]["matchLabels"].items() > spec["template"]["metadata"]["labels"].items():
        fail("DaemonSet selector does not match its pod template labels")
    pod = spec["template"]["spec"]
    if pod.get("hostPID") is not True:
        fail("the pod must share the host PID namespace (hostPID: true)")
    container = pod["containers"][0]
    security = container["securityContext"]
    if security.get("privileged"):
        fail("the container must not be privileged")
    added = sorted(security["capabilities"]["add"])
    if security["capabilities"].get("drop") != ["ALL"] or added != unit_capabilities(unit):
        fail(f"capabilities {added} differ from the systemd unit's {unit_capabilities(unit)}")

    config_text = by_kind["ConfigMap"]["data"]["cowwatch.yaml"]
    config = yaml.safe_load(config_text)
    port = int(config["metrics"]["listen"].rsplit(":", 1)[1])
    ports = [p["containerPort"] for p in container["ports"]]
    if port not in ports:
        fail(f"metrics.listen port {port} is not a container port {ports}")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"] for v in pod["volumes"]}
    if set(mounts) - volumes:
        fail(f"volume mounts without volumes: {set(mounts) - volumes}")
    if container["command"][-1] != f"{mounts['config']}/cowwatch.yaml":
        fail("the daemon is not started with the ConfigMap's file")
    print(f"manifest: {len(docs)} objects, capabilities {added}, metrics port {port}")

    if cowwatchd and os.path.exists(cowwatchd):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="cw-k8s-") as f:
            f.write(config_text)
            f.flush()
            result = run([cowwatchd, "--check-config", f.name])
        print(result.stdout + result.stderr, end="")
        if result.returncode != 0:
            fail("cowwatchd --check-config rejects the ConfigMap's cowwatch.yaml")
    elif cowwatchd and in_ci():
        fail(f"cowwatchd not built at {cowwatchd} (CI=true)")
    else:
        print("note: cowwatchd not built; ConfigMap config not checked by the daemon")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
