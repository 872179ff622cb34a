#!/bin/sh
# The host's macro workload for cw_bench_paths: compile four of cowwatch's own sources, two at a
# time (like `make -j2`), with the exact commands of BUILD_DIR's compile_commands.json, objects
# written to a scratch directory (the build tree is not touched).
#   bench/macro_compile.sh BUILD_DIR
set -eu
build=${1:?usage: macro_compile.sh BUILD_DIR}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$build/compile_commands.json" "$out" <<'PY' | xargs -P 2 -n 1 -d '\n' sh -c
import json, shlex, sys
wanted = ["daemon/model/aggregator.cpp", "daemon/alerts/alert_engine.cpp",
          "daemon/probe/planner.cpp", "daemon/config/config_loader.cpp"]
entries = json.load(open(sys.argv[1]))
for i, src in enumerate(wanted):
    e = next((e for e in entries if e["file"].endswith("/" + src)), None)
    if e is None:
        sys.exit("macro_compile.sh: %s is not in %s" % (src, sys.argv[1]))
    args = shlex.split(e["command"])
    args[args.index("-o") + 1] = "%s/%d.o" % (sys.argv[2], i)
    print("cd %s && %s" % (shlex.quote(e["directory"]), shlex.join(args)))
PY
