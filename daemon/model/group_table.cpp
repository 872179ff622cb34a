#include "model/group_table.h"

namespace cowwatch::model {

GroupStats& GroupTable::entry(const std::string& name) {
  auto it = entries_.find(name);
  if (it != entries_.end()) return it->second;
  if (name == kOtherGroup || named_ >= max_names_) return entries_[kOtherGroup];
  ++named_;
  return entries_[name];
}

void GroupTable::add(const std::string& name, const Tallies& delta, uint64_t poll) {
  GroupStats& stats = entry(name);
  add_tallies(stats.totals, delta);
  if (stats.delta_poll != poll) {
    stats.poll_delta = {};
    stats.delta_poll = poll;
  }
  add_tallies(stats.poll_delta, delta);
}

const GroupStats* GroupTable::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string GroupTable::slot_name(const std::string& name) const {
  return entries_.count(name) || named_ < max_names_ ? name : std::string(kOtherGroup);
}

}  // namespace cowwatch::model
