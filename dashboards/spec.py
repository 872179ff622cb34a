"""The compact source of cowwatch's Grafana dashboards.

Each dashboard is a list of rows; each row a list of panels: (kind, title, unit, [(expr, legend)]).
generate.py turns this into importable Grafana JSON (datasource as the ${datasource} variable).
Metric names are the contract in docs/metrics.md; keep them in sync with it.

Selectors below use Grafana template variables; tests/ecosystem substitutes them with ".*" and
evaluates every expression against a real Prometheus scraping a real cowwatchd. So no panel
expression may filter its result down to nothing on an idle host (no "> 0" filters): every
panel must show a series, even if its value is 0 or NaN.
"""

# Label matchers shared by every host-level selector.
HOST = 'job=~"$job", instance=~"$instance"'
CGROUP = HOST + ', cgroup=~"$cgroup"'
COMM = HOST + ', comm=~"$comm"'
PROCESS = HOST + ', cgroup=~"$cgroup", comm=~"$comm", pid=~"$pid"'
RATE = "[$__rate_interval]"
PINNED_RULES = "pinned_cow_copy|fork_with_pins|unshare_storm|pinned_swap_attempt|fork_cow_blowup"


def rate(metric, selector=HOST):
    return f"rate({metric}{{{selector}}}{RATE})"


def by(labels, expr, agg="sum"):
    return f"{agg} by ({labels}) ({expr})"


# Template variables: name -> (label, query, multi/all). "datasource" is always added first.
VARIABLES = [
    ("job", "Job", "label_values(cowwatch_build_info, job)"),
    ("instance", "Host", 'label_values(cowwatch_build_info{job=~"$job"}, instance)'),
    ("cgroup", "Cgroup", 'label_values(cowwatch_cgroup_forks_total{job=~"$job", instance=~"$instance"}, cgroup)'),
    ("comm", "Command", 'label_values(cowwatch_comm_forks_total{job=~"$job", instance=~"$instance"}, comm)'),
    ("pid", "Process",
     'label_values(cowwatch_process_cow_copied_bytes_total{job=~"$job", instance=~"$instance", '
     'cgroup=~"$cgroup", comm=~"$comm"}, pid)'),
]

REUSE_RATIO = (
    f'{by("instance", rate("cowwatch_cow_reuses_total"))} / '
    f'({by("instance", rate("cowwatch_cow_reuses_total"))} + {by("instance", rate("cowwatch_cow_copies_total"))})'
)

FLEET = {
    "uid": "cowwatch-fleet",
    "title": "cowwatch / Fleet overview",
    "rows": [
        ("Fleet", [
            ("stat", "Hosts reporting", "none", [(f"count(cowwatch_build_info{{{HOST}}})", "hosts")]),
            ("stat", "Hosts down", "none", [(f'sum(1 - up{{{HOST}}})', "down")]),
            ("stat", "Fleet copy rate", "Bps", [(f"sum({rate('cowwatch_cow_copied_bytes_total')})", "copied")]),
            ("stat", "Active cowwatch alerts", "none",
             [(f"sum(cowwatch_alert_active{{{HOST}}})", "active")]),
        ]),
        ("Copy-on-write", [
            ("timeseries", "COW copies per second by host", "ops",
             [(by("instance", rate("cowwatch_cow_copies_total")), "{{instance}}")]),
            ("timeseries", "Bytes copied by COW per second by host", "Bps",
             [(by("instance", rate("cowwatch_cow_copied_bytes_total")), "{{instance}}")]),
            ("timeseries", "Copies by reason (fleet)", "ops",
             [(by("reason", rate("cowwatch_cow_copies_total")), "{{reason}}")]),
            ("timeseries", "Reuse ratio by host (reused / (reused + copied))", "percentunit",
             [(REUSE_RATIO, "{{instance}}")]),
            ("timeseries", "Unshare faults forced by read-only pins", "ops",
             [(by("instance, result", rate("cowwatch_gup_unshares_total")), "{{instance}} {{result}}")]),
            ("timeseries", "Swap-cache adds", "ops",
             [(by("instance, pinned", rate("cowwatch_swap_adds_total")), "{{instance}} pinned={{pinned}}")]),
        ]),
        ("Forks and alerts", [
            ("timeseries", "Forks by parent pin state", "ops",
             [(by("instance, pins", rate("cowwatch_forks_total")), "{{instance}} {{pins}}")]),
            ("timeseries", "Top cgroups by bytes copied", "Bps",
             [(f'topk(10, {by("instance, cgroup", rate("cowwatch_cgroup_cow_copied_bytes_total", CGROUP))})',
               "{{instance}} {{cgroup}}")]),
            ("timeseries", "Alerts active by host", "none",
             [(by("instance", f"cowwatch_alert_active{{{HOST}}}"), "{{instance}}")]),
            ("table", "Alerts fired in range by host and rule", "none",
             [(by("instance, rule, severity", f"increase(cowwatch_alerts_total{{{HOST}}}[$__range])"), "")]),
        ]),
    ],
}

HOST_DRILLDOWN = {
    "uid": "cowwatch-host",
    "title": "cowwatch / Host drill-down",
    "rows": [
        ("Write-protect faults", [
            ("timeseries", "Write-protect faults by kind", "ops",
             [(by("instance, kind", rate("cowwatch_wp_faults_total")), "{{instance}} {{kind}}"),
              (by("instance", rate("cowwatch_wp_faults_approx_total")), "{{instance}} approx (tracepoint)")]),
            ("timeseries", "do_wp_page decisions", "ops",
             [(by("instance, decision", rate("cowwatch_wp_fault_decisions_total")), "{{instance}} {{decision}}")]),
            ("timeseries", "Remote faults (GUP, ptrace, KSM)", "ops",
             [(by("instance", rate("cowwatch_wp_faults_remote_total")), "{{instance}}")]),
            ("timeseries", "Reuses by path", "ops",
             [(by("instance, path", rate("cowwatch_cow_reuses_total")), "{{instance}} {{path}}")]),
        ]),
        ("Per cgroup", [
            ("timeseries", "Bytes copied by cgroup", "Bps",
             [(by("instance, cgroup", rate("cowwatch_cgroup_cow_copied_bytes_total", CGROUP)),
               "{{instance}} {{cgroup}}")]),
            ("timeseries", "Copies by cgroup and reason", "ops",
             [(by("instance, cgroup, reason", rate("cowwatch_cgroup_cow_copies_total", CGROUP)),
               "{{cgroup}} {{reason}}")]),
            ("timeseries", "Forks by cgroup", "ops",
             [(by("instance, cgroup, pins", rate("cowwatch_cgroup_forks_total", CGROUP)),
               "{{cgroup}} {{pins}}")]),
            ("timeseries", "Write faults by cgroup", "ops",
             [(by("instance, cgroup, kind", rate("cowwatch_cgroup_wp_faults_total", CGROUP)),
               "{{cgroup}} {{kind}}")]),
        ]),
        ("Per command", [
            ("timeseries", "Bytes copied by command", "Bps",
             [(by("instance, comm", rate("cowwatch_comm_cow_copied_bytes_total", COMM)), "{{instance}} {{comm}}")]),
            ("timeseries", "Bytes copied after forks, by parent command", "Bps",
             [(by("instance, comm", rate("cowwatch_comm_fork_copied_bytes_total", COMM)), "{{instance}} {{comm}}")]),
            ("timeseries", "Forks by command", "ops",
             [(by("instance, comm, pins", rate("cowwatch_comm_forks_total", COMM)), "{{comm}} {{pins}}")]),
        ]),
        ("Top processes", [
            ("timeseries", "Top processes by bytes copied", "Bps",
             [(f'topk(10, {rate("cowwatch_process_cow_copied_bytes_total", PROCESS)})',
               "{{comm}} ({{pid}}) {{cgroup}}")]),
            ("timeseries", "Top processes by write-protect faults", "ops",
             [(f'topk(10, {by("instance, pid, comm, cgroup", rate("cowwatch_process_wp_faults_total", PROCESS))})',
               "{{comm}} ({{pid}})")]),
        ]),
        ("Kernel cross-check", [
            ("timeseries", "Kernel /proc/vmstat counters", "ops",
             [(by("instance, counter", rate("cowwatch_selfcheck_vmstat_total")), "{{instance}} {{counter}}")]),
        ]),
    ],
}

PINNED = {
    "uid": "cowwatch-pinned",
    "title": "cowwatch / Pinned-page anomalies",
    "rows": [
        ("Alerts", [
            ("table", "Active pinned-page alerts", "none",
             [(f'cowwatch_alert_active{{{HOST}, rule=~"{PINNED_RULES}"}}', "")]),
            ("timeseries", "Pinned-page alerts fired by rule", "none",
             [(by("instance, rule", f'increase(cowwatch_alerts_total{{{HOST}, rule=~"{PINNED_RULES}"}}[$__range])'),
               "{{instance}} {{rule}}")]),
        ]),
        ("Forks of pinned memory", [
            ("timeseries", "Forks of an mm with pins (host)", "ops",
             [(by("instance, pins", rate("cowwatch_forks_total", HOST + ', pins!="none"')), "{{instance}} {{pins}}")]),
            ("table", "Forks of pinned mms in range, by command", "none",
             [(by("instance, comm, pins",
                  f'increase(cowwatch_comm_forks_total{{{COMM}, pins!="none"}}[$__range])'), "")]),
        ]),
        ("Copies and unshares of pinned pages", [
            ("timeseries", "COW copies of maybe-DMA-pinned pages", "ops",
             [(by("instance", rate("cowwatch_cow_copies_total", HOST + ', reason="pinned"')), "{{instance}}")]),
            ("timeseries", "Unshare copies by cgroup", "ops",
             [(by("instance, cgroup, result", rate("cowwatch_cgroup_gup_unshares_total", CGROUP)),
               "{{cgroup}} {{result}}")]),
            ("timeseries", "Share of copies the kernel could have avoided (extra_ref)", "percentunit",
             [(f'{by("instance", rate("cowwatch_cow_copies_total", HOST + ", reason=" + chr(34) + "extra_ref" + chr(34)))}'
               f' / {by("instance", rate("cowwatch_cow_copies_total"))}', "{{instance}}")]),
        ]),
        ("Pinned pages and reclaim", [
            ("timeseries", "Pinned folios added to swap / kept by reclaim", "ops",
             [(by("instance", rate("cowwatch_swap_adds_total", HOST + ', pinned="true"')), "{{instance}} swap add (pinned)"),
              (by("instance", rate("cowwatch_pinned_swap_skips_total")), "{{instance}} kept by reclaim")]),
            ("timeseries", "Kernel FOLL_PIN acquisitions (vmstat)", "ops",
             [(by("instance", rate("cowwatch_selfcheck_vmstat_total", HOST + ', counter="nr_foll_pin_acquired"')),
               "{{instance}}")]),
        ]),
    ],
}

HEALTH = {
    "uid": "cowwatch-health",
    "title": "cowwatch / Daemon health",
    "rows": [
        ("Daemon", [
            ("stat", "Scrape up", "none", [(f"up{{{HOST}}}", "{{instance}}")]),
            ("table", "Build and kernel", "none", [(f"cowwatch_build_info{{{HOST}}}", "")]),
            ("stat", "Config last reload successful", "none",
             [(f"cowwatch_config_last_reload_successful{{{HOST}}}", "{{instance}}")]),
            ("timeseries", "Scrape duration", "s", [(f"scrape_duration_seconds{{{HOST}}}", "{{instance}}")]),
        ]),
        ("Probe coverage", [
            ("table", "Chosen probe rung per hook", "none", [(f"cowwatch_probe_info{{{HOST}}}", "")]),
            ("timeseries", "Hooks counting exactly", "none",
             [(by("instance", f"cowwatch_probe_exact{{{HOST}}}"), "{{instance}}")]),
            ("table", "Exactness per hook", "none", [(f"cowwatch_probe_exact{{{HOST}}}", "")]),
        ]),
        ("Events", [
            ("timeseries", "Events dropped by cause", "ops",
             [(by("instance, cause", rate("cowwatch_events_dropped_total")), "{{instance}} {{cause}}")]),
            ("timeseries", "Events received by type", "ops",
             [(by("instance, type", rate("cowwatch_events_received_total")), "{{instance}} {{type}}")]),
            ("timeseries", "Tracked processes and BPF map fill", "none",
             [(f"cowwatch_tracked_processes{{{HOST}}}", "{{instance}} tracked"),
              (f"cowwatch_process_map_entries{{{HOST}}}", "{{instance}} map entries")]),
            ("timeseries", "BPF process map fill ratio", "percentunit",
             [(f"cowwatch_process_map_entries{{{HOST}}} / cowwatch_process_map_capacity{{{HOST}}}", "{{instance}}")]),
        ]),
        ("BPF run time (needs kernel.bpf_stats_enabled=1)", [
            ("timeseries", "BPF CPU time per program", "percentunit",
             [(by("instance, prog", rate("cowwatch_bpf_run_seconds_total")), "{{instance}} {{prog}}")]),
            ("timeseries", "Mean run time per program invocation", "s",
             [(f'{by("instance, prog", rate("cowwatch_bpf_run_seconds_total"))} / '
               f'{by("instance, prog", rate("cowwatch_bpf_runs_total"))}', "{{instance}} {{prog}}")]),
        ]),
    ],
}

DASHBOARDS = [FLEET, HOST_DRILLDOWN, PINNED, HEALTH]
