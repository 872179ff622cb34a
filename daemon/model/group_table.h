// Per-comm or per-cgroup totals with a hard cap on distinct names: once `max_names` names
// exist, every new name folds into "_other" (which does not count against the cap). Names are
// never dropped, so every total stays monotonic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "model/tallies.h"

namespace cowwatch::model {

inline constexpr const char* kOtherGroup = "_other";
inline constexpr const char* kUnknownName = "_unknown";

struct GroupStats {
  Tallies totals{};
  Tallies poll_delta{};             // what the poll `delta_poll` added
  uint64_t delta_poll = 0;
  uint64_t fork_copied_bytes = 0;   // comm table: bytes copied by forks whose parent had this comm
  uint64_t swap_add_events = 0;     // cgroup table: CW_EV_SWAP_ADD records naming this memcg
  uint64_t pinned_swap_skip_events = 0;  // cgroup table: CW_EV_PINNED_SWAP_SKIP records

  // The delta of `poll` (zero when nothing was added in that poll).
  Tallies delta_of(uint64_t poll) const { return delta_poll == poll ? poll_delta : Tallies{}; }
};

class GroupTable {
 public:
  explicit GroupTable(size_t max_names) : max_names_(max_names) {}

  // The entry for `name`, or "_other" when the table is full.
  GroupStats& entry(const std::string& name);
  void add(const std::string& name, const Tallies& delta, uint64_t poll);
  const GroupStats* find(const std::string& name) const;
  // The name an entry for `name` is kept under ("_other" when it overflowed).
  std::string slot_name(const std::string& name) const;

  const std::unordered_map<std::string, GroupStats>& entries() const { return entries_; }
  size_t max_names() const { return max_names_; }

 private:
  size_t max_names_;
  size_t named_ = 0;  // entries other than "_other"
  std::unordered_map<std::string, GroupStats> entries_;
};

}  // namespace cowwatch::model
