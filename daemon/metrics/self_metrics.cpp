#include "metrics/self_metrics.h"

#include "metrics/metrics_collector.h"
#include "protocol/protocol_names.h"

namespace cowwatch::metrics {

using prometheus::MetricFamily;
using prometheus::MetricType;

void SelfMetrics::set_build_info(SelfState::BuildInfo build) {
  std::lock_guard lock(mutex_);
  state_.build = std::move(build);
}

void SelfMetrics::set_probe_plan(const probe::ProbePlan& plan) {
  std::lock_guard lock(mutex_);
  state_.probes.clear();
  for (const probe::HookPlan& hook : plan.hooks) {
    state_.probes.push_back({std::string(control::hook_label(hook.hook)),
                             std::string(control::strategy_label(hook.strategy)), hook.target, hook.exact});
  }
}

void SelfMetrics::update_from_sample(const ingest::KernelSample& sample) {
  std::lock_guard lock(mutex_);
  for (int cause = 0; cause < CW_DROP_COUNT; ++cause) state_.drops[cause].observe(sample.drops[cause]);
  uint64_t recursion = 0;
  for (const ingest::ProgramStats& program : sample.programs) {
    recursion += program.recursion_misses;
    SelfState::ProgramTotals& totals = state_.programs[program.name];
    totals.run_time_ns.observe(program.run_time_ns);
    totals.run_cnt.observe(program.run_cnt);
    totals.misses.observe(program.recursion_misses);
  }
  state_.bpf_recursion.observe(recursion);
  state_.derived_copy_mismatch.observe(sample.host.c[CW_C_SELFCHECK_COPY_MISMATCH]);
  state_.process_map_entries = sample.processes.size();
  state_.process_map_capacity = sample.process_map_capacity;
}

void SelfMetrics::set_events_received(const std::array<uint64_t, CW_EV_TYPE_COUNT>& received) {
  std::lock_guard lock(mutex_);
  state_.events_received = received;
}

void SelfMetrics::set_tracked_processes(uint64_t count) {
  std::lock_guard lock(mutex_);
  state_.tracked_processes = count;
}

void SelfMetrics::set_config_reload(bool ok, double unix_seconds) {
  std::lock_guard lock(mutex_);
  state_.config_last_reload_successful = ok;
  if (ok) state_.config_last_reload_success_timestamp_seconds = unix_seconds;
}

void SelfMetrics::set_vmstat(std::map<std::string, uint64_t> counters) {
  std::lock_guard lock(mutex_);
  state_.vmstat = std::move(counters);
}

SelfState SelfMetrics::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::vector<MetricFamily> SelfMetrics::Collect() const {
  const SelfState s = state();
  std::vector<MetricFamily> out;

  FamilyBuilder build("cowwatch_build_info", "Build and kernel of this cowwatch", MetricType::Gauge);
  build.add({{"version", s.build.version},
             {"revision", s.build.revision},
             {"libbpf_version", s.build.libbpf_version},
             {"kernel", s.build.kernel}},
            1);
  out.push_back(build.take());

  FamilyBuilder info("cowwatch_probe_info", "The chosen probe rung per logical hook", MetricType::Gauge);
  FamilyBuilder exact("cowwatch_probe_exact", "1 when the chosen rung counts exactly", MetricType::Gauge);
  for (const SelfState::ProbeRow& row : s.probes) {
    info.add({{"hook", row.hook}, {"strategy", row.strategy}, {"target", row.target}}, 1);
    exact.add({{"hook", row.hook}}, row.exact ? 1 : 0);
  }
  out.push_back(info.take());
  out.push_back(exact.take());

  FamilyBuilder received("cowwatch_events_received_total", "Ring-buffer records consumed",
                         MetricType::Counter);
  for (int type = 0; type < CW_EV_TYPE_COUNT; ++type)
    received.add({{"type", std::string(control::event_type_label(type))}}, double(s.events_received[type]));
  out.push_back(received.take());

  FamilyBuilder dropped("cowwatch_events_dropped_total", "Lost detail or attribution, by cause",
                        MetricType::Counter);
  for (int cause = 0; cause < CW_DROP_COUNT; ++cause)
    dropped.add({{"cause", std::string(control::drop_cause_label(cause))}}, double(s.drops[cause].total()));
  dropped.add({{"cause", "bpf_recursion"}}, double(s.bpf_recursion.total()));
  out.push_back(dropped.take());

  auto gauge = [&out](const char* name, const char* help, double value) {
    FamilyBuilder builder(name, help, MetricType::Gauge);
    builder.add({}, value);
    out.push_back(builder.take());
  };
  gauge("cowwatch_tracked_processes", "Processes held by the daemon", double(s.tracked_processes));
  gauge("cowwatch_process_map_entries", "Entries in the BPF per-process map", double(s.process_map_entries));
  gauge("cowwatch_process_map_capacity", "max_entries of the BPF per-process map",
        double(s.process_map_capacity));

  FamilyBuilder run_seconds("cowwatch_bpf_run_seconds_total",
                            "BPF program run time (needs kernel.bpf_stats_enabled=1)", MetricType::Counter);
  FamilyBuilder runs("cowwatch_bpf_runs_total", "BPF program runs (needs kernel.bpf_stats_enabled=1)",
                     MetricType::Counter);
  FamilyBuilder misses("cowwatch_bpf_misses_total",
                       "BPF program runs the kernel skipped (recursion protection): each one an event "
                       "lost, and counted; their sum is cowwatch_events_dropped_total{cause=\"bpf_recursion\"}",
                       MetricType::Counter);
  for (const auto& [name, totals] : s.programs) {
    run_seconds.add({{"prog", name}}, double(totals.run_time_ns.total()) / 1e9);
    runs.add({{"prog", name}}, double(totals.run_cnt.total()));
    misses.add({{"prog", name}}, double(totals.misses.total()));
  }
  out.push_back(run_seconds.take());
  out.push_back(runs.take());
  out.push_back(misses.take());

  gauge("cowwatch_config_last_reload_successful", "Whether the last configuration load succeeded",
        s.config_last_reload_successful ? 1 : 0);
  gauge("cowwatch_config_last_reload_success_timestamp_seconds",
        "Time of the last successful configuration load", s.config_last_reload_success_timestamp_seconds);

  FamilyBuilder vmstat("cowwatch_selfcheck_vmstat_total",
                       "The kernel's own /proc/vmstat counter, for comparison", MetricType::Counter);
  for (const auto& [name, value] : s.vmstat) vmstat.add({{"counter", name}}, double(value));
  out.push_back(vmstat.take());
  FamilyBuilder mismatch("cowwatch_selfcheck_derived_copy_mismatch_total",
                         "Faults where the derived copy signal (pfn compare at do_wp_page exit) disagreed "
                         "with the exact wp_page_copy probe; only counted where both exist (6.1)",
                         MetricType::Counter);
  mismatch.add({}, double(s.derived_copy_mismatch.total()));
  out.push_back(mismatch.take());
  return out;
}

}  // namespace cowwatch::metrics
