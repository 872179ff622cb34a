// The processes the daemon tracks, keyed by (tgid, start time), with a hard cap: creating a
// process beyond it first evicts the least recently active ones (in a small batch, so a full
// table costs amortised O(1) per new process). Removed processes leave a bounded tombstone so
// that a late exit flush, or a process evicted while alive and seen again, is counted from
// where it was rather than from zero (which would count its past twice).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/group_table.h"
#include "model/proc_key.h"
#include "model/tallies.h"

namespace cowwatch::model {

// Where a process's comm came from, weakest first; a stronger source is never overwritten by a
// weaker one.
enum class NameSource : uint8_t { kNone, kInherited, kEvent, kProc };

struct Process {
  ProcKey key;
  std::string comm = kUnknownName;
  NameSource comm_source = NameSource::kNone;
  std::string cgroup = kUnknownName;   // path below the cgroup2 root
  uint64_t cgroup_id = 0;              // last cgroup id seen in an event (0: from /proc)
  bool cgroup_known = false;
  bool identity_pending = true;        // /proc comm and cgroup still to be read
  std::string kernel_comm;             // the name in its kernel counters at the last sample
  Baseline counters;                   // seen() = totals since the kernel first saw it
  std::array<uint32_t, kTallyCount> last_delta{};  // what poll `delta_poll` added (saturated)
  uint64_t delta_poll = 0;
  double activity = 0;                 // decaying per-poll activity, for top-K
  uint64_t last_active_poll = 0;       // last poll (or event) with activity: eviction order
  uint32_t absent_polls = 0;           // consecutive polls missing from the kernel sample
  uint64_t seen_poll = 0;              // last poll whose kernel sample held it
  bool exited = false;                 // an exit record was seen
  uint32_t anomaly_events = 0;         // fault records flagged as anomalies

  const Tallies& totals() const { return counters.seen(); }
  Tallies delta_of(uint64_t poll) const;
};

class ProcessTable {
 public:
  ProcessTable(size_t max_processes, size_t max_tombstones);

  Process* find(const ProcKey& key);
  const Process* find(const ProcKey& key) const;
  // Finds or creates. Creating at the cap evicts first; evicted processes are appended to
  // *evicted (their totals are already in the group tables; the caller ends their episodes).
  // Returns nullptr when the key exited recently (a late record for a flushed process).
  Process* find_or_create(const ProcKey& key, uint64_t poll, std::vector<Process>* evicted);
  // Removes a process. exited: its kernel entry is gone too (a later kernel entry for the same
  // key starts from zero); otherwise its totals are kept as the baseline for a later sighting.
  Process remove(const ProcKey& key, bool exited);
  // Whether `key` was removed with exited = true (and is still remembered).
  bool exited_recently(const ProcKey& key) const;
  // Baseline for a removed, not exited key (nullptr when none).
  const Tallies* tombstone_baseline(const ProcKey& key) const;
  void clear();

  size_t size() const { return processes_.size(); }
  size_t capacity() const { return max_processes_; }
  std::unordered_map<ProcKey, Process, ProcKeyHash>& all() { return processes_; }
  const std::unordered_map<ProcKey, Process, ProcKeyHash>& all() const { return processes_; }

 private:
  struct Tombstone {
    Tallies baseline{};
    bool exited = false;
    uint64_t sequence = 0;  // matches its entry in tombstone_order_
  };
  void evict_batch(std::vector<Process>* evicted);
  void bury(const ProcKey& key, Tombstone tombstone);

  size_t max_processes_;
  size_t max_tombstones_;
  std::unordered_map<ProcKey, Process, ProcKeyHash> processes_;
  std::unordered_map<ProcKey, Tombstone, ProcKeyHash> tombstones_;
  std::deque<std::pair<ProcKey, uint64_t>> tombstone_order_;  // oldest first
  uint64_t tombstone_sequence_ = 0;
};

}  // namespace cowwatch::model
