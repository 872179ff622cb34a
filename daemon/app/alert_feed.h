// The adapter between the model and the alert engine: builds one AlertInput per tick from the
// aggregator (every tracked process, every cgroup, the host, live fork episodes) plus the anomaly
// records that arrived since the last tick.
//
// Subjects are kept from tick to tick and the input only points at them: building 10,000 process
// subjects (an id string and a label map each) on every poll was ~75,000 allocations a second and
// a 17 MB transient that glibc interleaved with the model's long-lived entries (docs/performance.md
// §6).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "alerts/alert_input.h"
#include "cowwatch.h"
#include "model/aggregator.h"
#include "model/proc_key.h"

namespace cowwatch::app {

// Tallies are the model's monotonic totals; the engine reads cw_counter indexes.
cw_counters counters_from_tallies(const model::Tallies& t);
// The id carries the start time, so a reused pid is a new subject.
alerts::Subject process_subject(uint32_t pid, uint64_t start_ns, const std::string& comm,
                                const std::string& cgroup);
alerts::Subject cgroup_subject(const std::string& path);
alerts::Subject host_subject();

class AlertFeed {
 public:
  // Remembers an anomaly record (pinned copy, fork with long-term pins, pinned swap).
  void add_anomaly(const cw_event& event, const std::string& cgroup_path);
  // Builds the tick's input and forgets the anomalies it included. The input (and the subjects it
  // points at) stays valid until the next build call.
  const alerts::AlertInput& build(const model::Aggregator& aggregator);
  // Only the pending anomalies: the cheap tick run when an anomaly wakes the reader (the full
  // input walks every tracked process; that waits for the poll).
  const alerts::AlertInput& build_anomalies_only();

  size_t kept_subjects() const { return processes_.size() + cgroups_.size() + 1; }

 private:
  // A subject as of the last full tick that listed it. The engine takes a subject's first sample
  // as its baseline; every counter in the model starts at zero when cowwatchd starts (its BPF maps
  // are new), so a subject is first presented with zero counters and its real totals from the next
  // tick on: nothing it did before the tick that first showed it is lost.
  struct Kept {
    alerts::Subject subject;
    uint64_t tick = 0;  // the last full tick that listed it
  };
  // The kept subject for this tick; `fresh` when it was not listed by the previous full tick (or
  // its id changed), so its counters must be presented as zero.
  Kept& keep_process(const model::Process& p, bool* fresh);
  Kept& keep_cgroup(const std::string& path, bool* fresh);
  // Forgets subjects the tick just built did not list (exited processes, removed cgroups).
  void forget_unlisted();

  std::vector<alerts::AnomalyEvent> anomalies_;
  std::unordered_map<model::ProcKey, Kept, model::ProcKeyHash> processes_;
  std::unordered_map<std::string, Kept> cgroups_;
  Kept host_{host_subject(), 0};
  uint64_t tick_ = 0;  // full ticks built so far
  alerts::AlertInput input_;
};

}  // namespace cowwatch::app
