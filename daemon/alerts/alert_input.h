// What the alert engine reads on every tick. Plain data, filled by the daemon's adapter from the
// aggregator (one tick per poll, plus extra ticks when anomaly events arrive).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
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

// One hash of a subject's identity (scope, id): the engine's subject table and the feed's record of
// which subjects the previous tick listed.
inline size_t subject_hash(Scope scope, std::string_view id) {
  return std::hash<std::string_view>{}(id) * 31 + static_cast<size_t>(scope);
}

// A subject as one tick lists it: views of its id and labels, valid while the input is read. The
// daemon lists every tracked process on every poll; views let it do so without building an id
// string and a label map per process per poll (that was ~75,000 allocations a second at 10,000
// processes, and the freed pages were what grew the daemon's RSS).
class SubjectView {
 public:
  static constexpr size_t kMaxLabels = 3;
  SubjectView() = default;
  // Views into `subject`, which must outlive the view.
  SubjectView(const Subject& subject)  // NOLINT(google-explicit-constructor): a Subject is a subject
      : scope(subject.scope), id(subject.id), map_(&subject.labels) {}
  SubjectView(Subject&&) = delete;  // a view of a temporary would dangle
  SubjectView(Scope scope, std::string_view id) : scope(scope), id(id) {}
  // At most kMaxLabels; the name and value must outlive the view.
  void add_label(std::string_view name, std::string_view value);
  std::map<std::string, std::string> labels() const;
  bool has_labels(const std::map<std::string, std::string>& labels) const;

  Scope scope = Scope::kProcess;
  std::string_view id;

 private:
  const std::map<std::string, std::string>* map_ = nullptr;  // a Subject's labels, or:
  std::array<std::pair<std::string_view, std::string_view>, kMaxLabels> own_{};
  size_t count_ = 0;
};

// Exact counters of a subject: absolute and monotonic since the subject first existed. The
// first sample of a subject is its baseline (nothing before it counts); a sample lower than the
// previous one (the subject was recreated under the same id) starts a new baseline.
struct SubjectCounters {
  SubjectView subject;
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
  std::string text;  // what the subjects' views point into, when the producer needs a place for it
  std::vector<SubjectCounters> subjects;
  std::vector<ForkEpisode> forks;
  std::vector<AnomalyEvent> anomalies;
};

}  // namespace cowwatch::alerts
