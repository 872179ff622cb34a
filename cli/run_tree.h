// The process tree of `cowwatch run -- CMD`: the command and every process it forked,
// transitively, each by identity (tgid, start time) — never by bare pid, so a process that
// reuses a dead member's pid is not a member, and a tree whose pids wrap counts every process.
//
// The root is the command: the pid run forked, with the first start time seen for that pid at
// or after the fork (the pid cannot name anyone else until run reaps it). Members join by fork
// records whose parent is a member. Each member keeps its latest counters (final ones once its
// exit was flushed), its name (inherited at fork; then rename, exec and exit records, and the name
// the kernel keeps in its counters) and its cgroup id (its own latest event; at first its parent's).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cowwatch.h"
#include "model/proc_key.h"

namespace cowwatch::cli {

struct TreeMember {
  model::ProcKey key;
  model::ProcKey parent;        // {0, 0} for the root
  std::string comm;
  uint64_t cgroup_id = 0;
  std::string cgroup;           // path, resolved while the cgroup existed ("" until then)
  cw_counters counters{};       // absolute since the kernel first saw it
  std::string kernel_comm;      // the name in its counters when they last changed it
  bool exited = false;          // its final counters are in
};

struct KeyOrder {
  bool operator()(const model::ProcKey& a, const model::ProcKey& b) const {
    return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.tgid < b.tgid;
  }
};

class RunTree {
 public:
  // root_pid: the command's pid; forked_after_ns: CLOCK_MONOTONIC just before its fork.
  RunTree(uint32_t root_pid, uint64_t forked_after_ns);

  // Applies a ring record; returns whether it concerns a member (after applying it).
  bool on_event(const cw_event& event);
  // A member's counters from a sample (final: flushed at its exit). Ignored for non-members.
  void on_counters(const model::ProcKey& key, const cw_counters& counters, bool final);

  bool contains(const model::ProcKey& key);  // learns the root's start time on first sight
  size_t size() const { return members_.size(); }
  const std::map<model::ProcKey, TreeMember, KeyOrder>& members() const { return members_; }
  std::map<model::ProcKey, TreeMember, KeyOrder>& members() { return members_; }
  cw_counters totals() const;  // counters summed over the members (not cgroup_id, comm)

 private:
  TreeMember& add(const model::ProcKey& key, const model::ProcKey& parent);
  void name(TreeMember& member, const char* comm);

  uint32_t root_pid_;
  uint64_t forked_after_ns_;
  bool root_known_ = false;
  std::map<model::ProcKey, TreeMember, KeyOrder> members_;
};

}  // namespace cowwatch::cli
