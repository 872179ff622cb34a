// SelfMetrics: the Prometheus collectable for the daemon's report on itself (docs/metrics.md,
// "Self-monitoring"). The daemon fills it through the setters below from whatever thread it
// likes (they take a mutex); Collect() renders a copy of SelfState.
//
//   set_build_info(...)        once at start-up          -> cowwatch_build_info
//   set_probe_plan(plan)       after attach              -> cowwatch_probe_info, cowwatch_probe_exact
//   update_from_sample(sample) every poll                -> cowwatch_events_dropped_total (drops +
//                              recursion_misses as cause bpf_recursion), cowwatch_process_map_*,
//                              cowwatch_bpf_run_seconds_total, cowwatch_bpf_runs_total,
//                              cowwatch_bpf_misses_total
//   set_events_received(n)     every poll (Aggregator::events_received()) -> cowwatch_events_received_total
//   set_tracked_processes(n)   every poll (Aggregator::tracked_processes()) -> cowwatch_tracked_processes
//   set_config_reload(ok, t)   at start-up and each SIGHUP -> cowwatch_config_last_reload_*
//   set_vmstat(counters)       every poll (ProcReader::selfcheck_vmstat()) -> cowwatch_selfcheck_vmstat_total
//
// Kernel-side counters (drops, program runs) restart from zero when the BPF objects are
// re-created; SelfMetrics adds up increases, so its _total series never go back.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "cowwatch.h"
#include "ingest/kernel_sample.h"
#include "probe/plan.h"

namespace cowwatch::metrics {

// Sums the increases of an absolute counter that may restart from zero.
class ResettableCounter {
 public:
  void observe(uint64_t absolute) {
    total_ += absolute >= last_ ? absolute - last_ : absolute;
    last_ = absolute;
  }
  uint64_t total() const { return total_; }

 private:
  uint64_t last_ = 0;
  uint64_t total_ = 0;
};

struct SelfState {
  struct BuildInfo {
    std::string version, revision, libbpf_version, kernel;
  };
  struct ProbeRow {
    std::string hook, strategy, target;  // docs/metrics.md label values
    bool exact = false;
  };
  struct ProgramTotals {
    ResettableCounter run_time_ns, run_cnt, misses;
  };

  BuildInfo build;
  std::vector<ProbeRow> probes;                                  // one per logical hook
  std::array<uint64_t, CW_EV_TYPE_COUNT> events_received{};
  std::array<ResettableCounter, CW_DROP_COUNT> drops{};
  ResettableCounter bpf_recursion;                               // sum over programs
  uint64_t tracked_processes = 0;
  uint64_t process_map_entries = 0;
  uint64_t process_map_capacity = 0;
  std::map<std::string, ProgramTotals> programs;                 // by BPF program name
  bool config_last_reload_successful = false;
  double config_last_reload_success_timestamp_seconds = 0;       // Unix time; 0 before success
  std::map<std::string, uint64_t> vmstat;                        // pgreuse, pswpout, ...
  ResettableCounter derived_copy_mismatch;  // host CW_C_SELFCHECK_COPY_MISMATCH
};

class SelfMetrics : public prometheus::Collectable {
 public:
  void set_build_info(SelfState::BuildInfo build);
  void set_probe_plan(const probe::ProbePlan& plan);
  void update_from_sample(const ingest::KernelSample& sample);
  void set_events_received(const std::array<uint64_t, CW_EV_TYPE_COUNT>& received);
  void set_tracked_processes(uint64_t count);
  // ok = false keeps the last success timestamp (like Prometheus's own reload metrics).
  void set_config_reload(bool ok, double unix_seconds);
  void set_vmstat(std::map<std::string, uint64_t> counters);

  SelfState state() const;
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mutex_;
  SelfState state_;
};

}  // namespace cowwatch::metrics
