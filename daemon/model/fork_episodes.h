// Fork attribution: "how much did this fork copy?". An episode starts at a fork record (parent
// key, child key) and lives while the child lives. Copies with reason `shared` made by the child
// and by the parent are charged to the process's newest live episode (a process can be the child
// of one episode and the parent of newer ones; its shared copies most likely come from the most
// recent fork it took part in). The projection extends the current copy rate over a horizon,
// bounded by the parent's anonymous RSS at fork: a page shared by the fork is copied at most
// once (after one side copies it, the other side owns it exclusively and reuses it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/proc_key.h"

namespace cowwatch::model {

struct ForkEpisode {
  uint64_t id = 0;                    // increasing with time
  ProcKey parent, child;
  std::string parent_comm, parent_cgroup;
  uint64_t started_ns = 0;            // fork record's timestamp (CLOCK_MONOTONIC)
  uint64_t ended_ns = 0;              // when the child's exit was seen; 0 while live
  bool live = true;
  std::optional<uint64_t> parent_rss_anon_bytes;  // RssAnon of the parent at the fork
  uint64_t parent_pinned_pages = 0;   // parent's pinned_vm at the fork (fork record aux1)
  uint64_t child_copied_bytes = 0;    // shared copies made by the child
  uint64_t parent_copied_bytes = 0;   // shared copies made by the parent while the child lived
  double rate_bytes_per_s = 0;        // smoothed copy rate over recent polls
  uint64_t poll_bytes = 0;            // bytes charged since the last rate update
  bool rate_known = false;            // at least one rate update happened

  uint64_t copied_bytes() const { return child_copied_bytes + parent_copied_bytes; }
  // copied + rate x horizon, bounded by the RSS at fork (never below what was copied).
  uint64_t projected_bytes(double horizon_s) const;
};

class ForkEpisodes {
 public:
  explicit ForkEpisodes(size_t max_ended = 64) : max_ended_(max_ended) {}

  ForkEpisode& start(const ProcKey& parent, const ProcKey& child, uint64_t started_ns);
  // Charges shared-copy bytes made by `process` to its newest live episode and returns it
  // (nullptr when the process takes part in no live episode).
  const ForkEpisode* charge(const ProcKey& process, uint64_t bytes);
  // Ends the episode whose child is `child` (exit, fold or eviction). Returns it, if any.
  std::optional<ForkEpisode> end_child(const ProcKey& child, uint64_t now_ns);
  // Ends every live episode `parent` started (it exec'd: nothing is shared any more).
  void end_parent(const ProcKey& parent, uint64_t now_ns);
  // Updates every live episode's rate with the bytes charged over `interval_s`.
  void update_rates(double interval_s);
  void clear();

  // The newest live episode `process` started as a parent (nullptr when none).
  const ForkEpisode* newest_as_parent(const ProcKey& process) const;
  const ForkEpisode* as_child(const ProcKey& process) const;
  const std::map<uint64_t, ForkEpisode>& live() const { return live_; }
  const std::deque<ForkEpisode>& recently_ended() const { return ended_; }  // oldest first

 private:
  ForkEpisode* newest_for(const ProcKey& process);

  size_t max_ended_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, ForkEpisode> live_;  // by id
  std::unordered_map<ProcKey, uint64_t, ProcKeyHash> by_child_;
  std::unordered_map<ProcKey, std::vector<uint64_t>, ProcKeyHash> by_parent_;  // ascending ids
  std::deque<ForkEpisode> ended_;
};

}  // namespace cowwatch::model
