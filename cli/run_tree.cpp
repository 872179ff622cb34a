#include "cli/run_tree.h"

#include <cstring>

namespace cowwatch::cli {

using model::ProcKey;

RunTree::RunTree(uint32_t root_pid, uint64_t forked_after_ns)
    : root_pid_(root_pid), forked_after_ns_(forked_after_ns) {}

TreeMember& RunTree::add(const ProcKey& key, const ProcKey& parent) {
  auto [it, inserted] = members_.try_emplace(key);
  if (inserted) {
    it->second.key = key;
    it->second.parent = parent;
  }
  return it->second;
}

bool RunTree::contains(const ProcKey& key) {
  if (members_.count(key)) return true;
  if (root_known_ || key.tgid != root_pid_ || key.start_ns < forked_after_ns_) return false;
  root_known_ = true;
  add(key, ProcKey{});
  return true;
}

void RunTree::name(TreeMember& member, const char* comm) {
  size_t len = strnlen(comm, CW_COMM_LEN);
  if (len) member.comm.assign(comm, len);
}

bool RunTree::on_event(const cw_event& e) {
  const ProcKey key{e.tgid, e.start_ns};
  if (e.type == CW_EV_FORK) {
    const ProcKey child{e.aux2, e.aux0};
    if (contains(key)) {
      TreeMember& parent = members_[key];
      name(parent, e.comm);
      if (e.cgroup_id) parent.cgroup_id = e.cgroup_id;
      TreeMember& member = add(child, key);
      if (member.comm.empty()) name(member, e.comm);  // inherited until it renames or execs
      if (!member.cgroup_id) member.cgroup_id = e.cgroup_id;
      return true;
    }
    return contains(child);  // the command itself, forked by run
  }
  if (!contains(key)) return false;
  TreeMember& member = members_[key];
  switch (e.type) {
    case CW_EV_EXEC:
    case CW_EV_RENAME:
    case CW_EV_EXIT:
      name(member, e.comm);
      break;
    case CW_EV_FAULT:
      if (e.actor_tgid == e.tgid) name(member, e.comm);
      break;
    default:
      break;
  }
  return true;
}

void RunTree::on_counters(const ProcKey& key, const cw_counters& counters, bool final) {
  if (!contains(key)) return;
  TreeMember& member = members_[key];
  if (member.exited) return;  // a late copy of a flushed entry
  member.counters = counters;
  member.exited = final;
  if (counters.cgroup_id) member.cgroup_id = counters.cgroup_id;
  const size_t len = strnlen(counters.comm, CW_COMM_LEN);
  if (len && member.kernel_comm.compare(0, std::string::npos, counters.comm, len) != 0) {
    member.kernel_comm.assign(counters.comm, len);
    member.comm = member.kernel_comm;  // changed since the last sample: a rename
  }
}

cw_counters RunTree::totals() const {
  cw_counters sum{};
  for (const auto& [key, member] : members_) {
    for (int i = 0; i < CW_C_COUNT; ++i) sum.c[i] += member.counters.c[i];
  }
  return sum;
}

}  // namespace cowwatch::cli
