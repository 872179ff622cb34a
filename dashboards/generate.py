#!/usr/bin/env python3
"""Generates cowwatch's Grafana dashboards from spec.py, and validates dashboard JSON.

  generate.py --list                   print the file names (CMake list) --out-dir writes
  generate.py --out-dir DIR            write DIR/<uid>.json for every dashboard in spec.py
  generate.py --check FILE...          validate dashboards (JSON, ids, targets, datasource variable)
  generate.py --promql-rules OUT FILE...
                                       write every panel and variable query, template variables
                                       substituted, as a Prometheus recording-rules file so
                                       `promtool check rules OUT` parses each one

Stdlib only: it runs in the build.
"""
import argparse
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # runs from the source tree: leave no __pycache__ there
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec  # noqa: E402

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
REQUIRED_VARIABLES = ("datasource", "instance", "cgroup", "comm")
GRID_WIDTH = 24
PANEL_HEIGHT = 8
# Values the template variables take when a dashboard query is evaluated outside Grafana.
SUBSTITUTIONS = {
    "__rate_interval": "15s",
    "__interval": "5s",
    "__range": "1h",
}


def variable(name, label, query):
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": query,
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
        "hide": 0,
        "regex": "",
        "options": [],
    }


def templating():
    variables = [{
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "refresh": 1,
        "hide": 0,
        "regex": "",
        "current": {},
        "options": [],
    }]
    variables += [variable(name, label, query) for name, label, query in spec.VARIABLES]
    return {"list": variables}


def panel_json(panel_id, kind, title, unit, queries, grid_pos):
    targets = []
    for index, (expr, legend) in enumerate(queries):
        target = {"refId": chr(ord("A") + index), "datasource": DATASOURCE, "expr": expr,
                  "legendFormat": legend or "__auto"}
        if kind == "table":
            target.update({"format": "table", "instant": True, "range": False})
        else:
            target.update({"range": True, "instant": False})
        targets.append(target)
    panel = {
        "id": panel_id,
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": grid_pos,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": unit, "noValue": "0"}, "overrides": []},
    }
    if kind == "timeseries":
        panel["fieldConfig"]["defaults"]["custom"] = {
            "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
            "spanNulls": False, "stacking": {"mode": "none"}}
        panel["options"] = {"legend": {"displayMode": "table", "placement": "bottom",
                                       "showLegend": True, "calcs": ["mean", "max"]},
                            "tooltip": {"mode": "multi", "sort": "desc"}}
    elif kind == "stat":
        panel["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                            "colorMode": "value", "graphMode": "area", "textMode": "auto",
                            "orientation": "auto", "justifyMode": "auto"}
    elif kind == "table":
        panel["options"] = {"showHeader": True, "cellHeight": "sm"}
        panel["transformations"] = [{"id": "organize", "options": {
            "excludeByName": {"Time": True, "__name__": True}, "renameByName": {}}}]
    else:
        raise ValueError(f"unknown panel kind {kind!r} in {title!r}")
    return panel


def dashboard_json(source):
    panels = []
    next_id = 1
    y = 0
    for row_title, row_panels in source["rows"]:
        panels.append({"id": next_id, "type": "row", "title": row_title, "collapsed": False,
                       "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y}, "panels": []})
        next_id += 1
        y += 1
        width = GRID_WIDTH // min(len(row_panels), 4) if row_panels else GRID_WIDTH
        height = 4 if all(p[0] == "stat" for p in row_panels) else PANEL_HEIGHT
        x = 0
        for kind, title, unit, queries in row_panels:
            if x + width > GRID_WIDTH:
                x = 0
                y += height
            panels.append(panel_json(next_id, kind, title, unit, queries,
                                     {"h": height, "w": width, "x": x, "y": y}))
            next_id += 1
            x += width
        y += height
    return {
        "uid": source["uid"],
        "title": source["title"],
        "description": "Generated from dashboards/spec.py by dashboards/generate.py; do not edit.",
        "tags": ["cowwatch"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "refresh": "30s",
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
            "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
            "type": "dashboard"}]},
        "links": [{"type": "dashboards", "tags": ["cowwatch"], "asDropdown": True,
                   "title": "cowwatch", "includeVars": True, "keepTime": True}],
        "templating": templating(),
        "panels": panels,
    }


def iter_panels(panels):
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def validate(path):
    """Returns a list of problems with the dashboard at path (empty when it is fine)."""
    problems = []
    try:
        with open(path, encoding="utf-8") as f:
            board = json.load(f)
    except (OSError, ValueError) as e:
        return [f"{path}: not valid JSON: {e}"]
    for key in ("uid", "title", "panels", "templating"):
        if key not in board:
            problems.append(f"{path}: missing top-level key {key!r}")
    names = [v.get("name") for v in board.get("templating", {}).get("list", [])]
    for name in REQUIRED_VARIABLES:
        if name not in names:
            problems.append(f"{path}: missing template variable {name!r}")
    ds = next((v for v in board.get("templating", {}).get("list", []) if v.get("name") == "datasource"), {})
    if ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problems.append(f"{path}: variable 'datasource' must be a prometheus datasource variable")
    seen_ids = set()
    for panel in iter_panels(board.get("panels", [])):
        pid = panel.get("id")
        where = f"{path}: panel {pid} {panel.get('title')!r}"
        if not isinstance(pid, int):
            problems.append(f"{where}: id is not an integer")
        elif pid in seen_ids:
            problems.append(f"{where}: duplicate panel id")
        seen_ids.add(pid)
        if panel.get("type") == "row":
            continue
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"{where}: datasource is not the ${{datasource}} variable")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"{where}: no targets")
        ref_ids = [t.get("refId") for t in targets]
        if len(set(ref_ids)) != len(ref_ids):
            problems.append(f"{where}: duplicate refId")
        for target in targets:
            if not str(target.get("expr", "")).strip():
                problems.append(f"{where}: target {target.get('refId')} has no expr")
            if target.get("datasource", {}).get("uid") != "${datasource}":
                problems.append(f"{where}: target {target.get('refId')} does not use ${{datasource}}")
    return problems


def substitute(expr):
    """Replaces Grafana variables ($name, ${name}, ${name:fmt}) with values Prometheus accepts."""
    def value(match):
        name = match.group(1) or match.group(2)
        return SUBSTITUTIONS.get(name, ".*")
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", value, expr)


def label_values_selector(query):
    """label_values(selector, label) -> (selector, label); label_values(label) -> ("", label)."""
    match = re.fullmatch(r"\s*label_values\((?:(.*),)?\s*(\w+)\s*\)\s*", query, re.S)
    if not match:
        return None
    return (match.group(1) or "").strip(), match.group(2)


def queries_of(path):
    """Every (where, expr) a dashboard sends to Prometheus, variables substituted."""
    with open(path, encoding="utf-8") as f:
        board = json.load(f)
    out = []
    for panel in iter_panels(board["panels"]):
        for target in panel.get("targets", []):
            out.append((f"{board['uid']} panel {panel['id']} {panel['title']!r} {target['refId']}",
                        substitute(target["expr"])))
    return out


def variable_queries_of(path):
    """Every template variable query as (where, selector, label), selector substituted."""
    with open(path, encoding="utf-8") as f:
        board = json.load(f)
    out = []
    for var in board["templating"]["list"]:
        if var.get("type") != "query":
            continue
        parsed = label_values_selector(var["definition"])
        if parsed is None:
            raise ValueError(f"{path}: variable {var['name']}: not a label_values() query")
        out.append((f"{board['uid']} variable {var['name']}", substitute(parsed[0]), parsed[1]))
    return out


def write_promql_rules(out_path, paths):
    lines = ["groups:", "  - name: dashboard_queries", "    rules:"]
    for path in paths:
        stem = re.sub(r"\W", "_", os.path.basename(path).split(".")[0])
        for index, (_, expr) in enumerate(queries_of(path)):
            lines.append(f"      - record: dashboard_query:{stem}:{index}")
            lines.append(f"        expr: {json.dumps(expr)}")
        for index, (_, selector, _) in enumerate(variable_queries_of(path)):
            if selector:
                lines.append(f"      - record: dashboard_variable:{stem}:{index}")
                lines.append(f"        expr: {json.dumps(selector)}")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="print the file names --out-dir writes")
    parser.add_argument("--out-dir")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--promql-rules")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.list:
        print(";".join(f"{source['uid']}.json" for source in spec.DASHBOARDS))
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        for source in spec.DASHBOARDS:
            board = dashboard_json(source)
            path = os.path.join(args.out_dir, f"{source['uid']}.json")
            with open(path + ".tmp", "w", encoding="utf-8") as f:
                json.dump(board, f, indent=2, sort_keys=True)
                f.write("\n")
            os.replace(path + ".tmp", path)
            problems = validate(path)
            if problems:
                print("\n".join(problems), file=sys.stderr)
                return 1
    if args.check:
        problems = [p for path in args.files for p in validate(path)]
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
        count = sum(len(queries_of(p)) for p in args.files)
        print(f"{len(args.files)} dashboards valid, {count} panel queries")
    if args.promql_rules:
        write_promql_rules(args.promql_rules, args.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
