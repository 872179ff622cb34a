// The adapter between the model and the alert engine: builds one AlertInput per tick from the
// aggregator (every tracked process, every cgroup, the host, live fork episodes) plus the anomaly
// records that arrived since the last tick.
//
// Process subjects are views into one text buffer per tick: building 10,000 subjects (an id string
// and a label map each) on every poll was ~75,000 allocations a second, a 17 MB transient whose
// freed pages glibc kept between the model's long-lived entries (docs/performance.md §6).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "alerts/alert_input.h"
#include "cowwatch.h"
#include "model/aggregator.h"

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
  // Builds the tick's input and forgets the anomalies it included. Process subjects are views into
  // the input's own text: no string or map per process.
  alerts::AlertInput build(const model::Aggregator& aggregator);
  // Only the pending anomalies: the cheap tick run when an anomaly wakes the reader (the full
  // input walks every tracked process; that waits for the poll).
  alerts::AlertInput build_anomalies_only();

 private:
  std::vector<alerts::AnomalyEvent> anomalies_;
  // Subjects of the previous tick. The engine takes a subject's first sample as its baseline; every
  // counter in the model starts at zero when cowwatchd starts (its BPF maps are new), so a subject
  // is first presented with zero counters and its real totals from the next tick on: nothing it
  // did before the tick that first showed it is lost.
  // Sorted hashes of (scope, id): a 64-bit collision is negligible. now_ is this tick's, swapped
  // with seen_; both keep their capacity, so a steady tick allocates nothing for them.
  std::vector<uint64_t> seen_;
  std::vector<uint64_t> now_;
};

}  // namespace cowwatch::app
