// What the alert engine reads on every tick. Plain data, filled by the daemon's adapter from the
// aggregator (one tick per poll, plus extra ticks when anomaly events arrive).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/alert_rule.h"
#include "cowwatch.h"

namespace cowwatch::alerts {

// Something a rule watches. (scope, id) identifies it across ticks.
struct Subject {
  Scope scope = Scope::kProcess;
  // Unique within its scope and stable while it lives: "pid 123 (redis-server)" (identity
  // includes the start time upstream; a reused pid must get a new id), a cgroup path
  // ("system.slice/redis.service", "/" for the root), or "host".
  std::string id;
  // Copied into the alert's labels, e.g. {pid, comm, cgroup}. Names must be valid Prometheus
  // label names; alertname, severity, scope and subject are overwritten by the engine.
  std::map<std::string, std::string> labels;
};

// Exact counters of a subject: absolute and monotonic since the subject first existed. The
// first sample of a subject is its baseline (nothing before it counts); a sample lower than the
// previous one (the subject was recreated under the same id) starts a new baseline.
struct SubjectCounters {
  const Subject* subject = nullptr;  // owned by whoever built the input; valid while it is read
  cw_counters counters{};
};

// A live fork episode: a parent whose child still shares its memory.
struct ForkEpisode {
  Subject parent;                // the forking process (or its cgroup / host for wider scopes)
  uint32_t child_tgid = 0;       // for the description
  uint64_t copied_bytes = 0;     // bytes copied by COW since the fork (parent and child)
  uint64_t projected_bytes = 0;  // projected total at the current copy rate (0 = no projection)
  uint64_t rss_bound_bytes = 0;  // the parent's anon RSS at fork: the most a fork can copy (0 = unknown)
};

// A ring-buffer anomaly record and the subjects it belongs to (its process, that process's
// cgroup, the host: one entry per scope the adapter attributes it to).
struct AnomalyEvent {
  cw_event event{};
  std::vector<Subject> subjects;
};

struct AlertInput {
  std::vector<SubjectCounters> subjects;
  std::vector<ForkEpisode> forks;
  std::vector<AnomalyEvent> anomalies;
};

}  // namespace cowwatch::alerts
