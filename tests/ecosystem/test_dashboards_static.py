#!/usr/bin/env python3
"""Dashboards as shipped: valid Grafana JSON (unique panel ids, every target has an expr, the
${datasource} variable everywhere, host/cgroup/comm variables) and every query parses as PromQL
(promtool check rules on the queries written as recording rules). Also shows the validator
rejects a broken dashboard, so a pass means something.

usage: test_dashboards_static.py GENERATOR DASHBOARD.json...
"""
import copy
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fail, require_tool, run  # noqa: E402


def main():
    generator, files = sys.argv[1], sys.argv[2:]
    if not files:
        fail("no dashboard files given")
    promtool = require_tool("promtool")
    python = sys.executable

    result = run([python, generator, "--check", *files])
    print(result.stdout + result.stderr, end="")
    if result.returncode != 0:
        fail("dashboard validation failed")

    with tempfile.TemporaryDirectory(prefix="cw-dash-") as tmp:
        rules = os.path.join(tmp, "dashboard-queries.yml")
        result = run([python, generator, "--promql-rules", rules, *files])
        if result.returncode != 0:
            fail(f"writing queries failed: {result.stderr}")
        result = run([promtool, "check", "rules", rules])
        print(result.stdout + result.stderr, end="")
        if result.returncode != 0:
            fail("a dashboard query is not valid PromQL")

        # The validator must reject what it claims to reject.
        with open(files[0], encoding="utf-8") as f:
            board = json.load(f)
        broken = copy.deepcopy(board)
        panels = [p for p in broken["panels"] if p["type"] != "row"]
        panels[1]["id"] = panels[0]["id"]
        panels[0]["targets"][0]["expr"] = ""
        panels[2]["datasource"] = {"type": "prometheus", "uid": "prometheus-prod"}
        broken["templating"]["list"] = [v for v in broken["templating"]["list"] if v["name"] != "cgroup"]
        broken_path = os.path.join(tmp, "broken.json")
        with open(broken_path, "w", encoding="utf-8") as f:
            json.dump(broken, f)
        result = run([python, generator, "--check", broken_path])
        expected = ["duplicate panel id", "has no expr", "not the ${datasource} variable",
                    "missing template variable 'cgroup'"]
        missing = [e for e in expected if e not in result.stderr]
        if result.returncode == 0 or missing:
            fail(f"validator did not report {missing} for a broken dashboard:\n{result.stderr}")
    print(f"PASS: {len(files)} dashboards")
    return 0


if __name__ == "__main__":
    sys.exit(main())
