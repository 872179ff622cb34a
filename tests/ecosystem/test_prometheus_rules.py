#!/usr/bin/env python3
"""The shipped Prometheus rules and example configurations: `promtool check rules`,
`promtool test rules` (unit tests beside the rules), `promtool check config` of
prometheus.example.yml (pointed at the rules in the tree) and `amtool check-config` of
alertmanager.example.yml.

usage: test_prometheus_rules.py PACKAGING_PROMETHEUS_DIR
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import fail, require_tool, run  # noqa: E402

INSTALLED_RULES = "/usr/share/cowwatch/prometheus/cowwatch-rules.yml"


def check(cmd, what, cwd=None):
    result = run(cmd, cwd=cwd)
    print(result.stdout + result.stderr, end="")
    if result.returncode != 0:
        fail(what)


def main():
    source = os.path.abspath(sys.argv[1])
    promtool = require_tool("promtool")
    amtool = require_tool("amtool")
    rules = os.path.join(source, "cowwatch-rules.yml")

    check([promtool, "check", "rules", rules], "promtool check rules")
    with tempfile.TemporaryDirectory(prefix="cw-rules-") as tmp:
        # promtool test rules resolves rule_files relative to the test file: test a copy so
        # nothing is written beside the sources.
        for name in ("cowwatch-rules.yml", "cowwatch-rules.test.yml"):
            shutil.copy(os.path.join(source, name), tmp)
        check([promtool, "test", "rules", "cowwatch-rules.test.yml"], "promtool test rules", cwd=tmp)

        with open(os.path.join(source, "prometheus.example.yml"), encoding="utf-8") as f:
            config = f.read()
        if INSTALLED_RULES not in config:
            fail(f"prometheus.example.yml does not load {INSTALLED_RULES}")
        example = os.path.join(tmp, "prometheus.yml")
        with open(example, "w", encoding="utf-8") as f:
            f.write(config.replace(INSTALLED_RULES, rules))
        check([promtool, "check", "config", example], "promtool check config prometheus.example.yml")
    check([amtool, "check-config", os.path.join(source, "alertmanager.example.yml")],
          "amtool check-config alertmanager.example.yml")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
