// What the Aggregator hands out: its options, the snapshot the Prometheus collector renders,
// and the results of the CLI's queries (top, query by pid/comm/cgroup, fork episodes). Plain
// copies: readers never hold the aggregator's lock while they use them. JSON forms of these
// are in json_views.h and documented in docs/model-json.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cowwatch.h"
#include "model/fork_episodes.h"
#include "model/group_table.h"
#include "model/proc_key.h"
#include "model/tallies.h"

namespace cowwatch::model {

struct AggregatorOptions {
  size_t max_processes = 32768;     // limits.max_tracked_processes
  size_t max_comms = 1000;          // metrics.max_comms
  size_t max_cgroups = 1000;        // metrics.max_cgroups
  size_t top_k_processes = 20;      // metrics.top_k_processes
  double fork_projection_horizon_s = 60;  // how far the fork copy rate is projected
  size_t max_tombstones = 0;        // removed keys remembered; 0: max(1024, max_processes / 4)
  size_t max_ended_fork_episodes = 64;  // ended fork episodes kept for queries
  std::string proc_root = "/proc";  // a directory that does not exist disables /proc reads
  std::string cgroup_root = "/sys/fs/cgroup";
};

struct GroupRow {
  std::string name;                // comm or cgroup path ("_other" for the overflow)
  Tallies totals{};
  uint64_t fork_copied_bytes = 0;  // comm rows only
};

struct ProcessRow {
  uint32_t pid = 0;
  uint64_t start_ns = 0;
  std::string comm, cgroup;
  Tallies totals{};
  uint64_t fork_copied_bytes = 0;     // newest live episode it started as a parent; else 0
  uint64_t fork_projected_bytes = 0;  // its projection; else 0
};

// Everything MetricsCollector renders, built at most once per change of the model.
struct MetricsSnapshot {
  uint64_t poll = 0;                 // number of samples applied
  Tallies host{};                    // exact host totals
  std::vector<GroupRow> cgroups;     // sorted by name
  std::vector<GroupRow> comms;       // sorted by name
  std::vector<ProcessRow> top_processes;  // at most top_k_processes, most active first
  size_t tracked_processes = 0;
};

enum class SortKey { kCopies, kCopiedBytes, kUnshares, kSwapAdds, kFaults };
enum class GroupBy { kProcess, kCgroup, kComm };
const char* sort_key_name(SortKey key);  // "copies", "copied_bytes", "unshares", "swap_adds", "faults"
const char* group_by_name(GroupBy group);  // "process", "cgroup", "comm"
uint64_t sort_value(SortKey key, const Tallies& tallies);

struct TopQuery {
  SortKey sort = SortKey::kCopies;
  GroupBy group = GroupBy::kProcess;
  size_t limit = 20;
};

struct TopRow {
  std::string name;             // comm (process and comm rows) or cgroup path (cgroup rows)
  uint32_t pid = 0;             // process rows
  uint64_t start_ns = 0;        // process rows
  std::string comm, cgroup;     // process rows
  size_t live_processes = 0;    // comm and cgroup rows: tracked processes in the group
  Tallies totals{};
  Tallies poll_delta{};         // added by the last poll
  uint64_t value = 0;           // sort_value(sort, totals)
  double rate_per_s = 0;        // sort_value(sort, poll_delta) / interval_s
};

// Rows sorted by rate, then by total, both descending.
struct TopResult {
  TopQuery query;
  double interval_s = 0;        // length of the last poll interval (0 before two polls)
  std::vector<TopRow> rows;
};

struct ForkEpisodeView {
  ForkEpisode episode;
  uint64_t projected_bytes = 0;
  double horizon_s = 0;
};

struct ProcessDetail {
  ProcessRow row;
  bool exited = false;          // exit record seen, final counters not yet flushed
  uint32_t anomaly_events = 0;
  Tallies poll_delta{};
  double interval_s = 0;
  std::optional<ForkEpisodeView> as_child;     // the live episode that created it
  std::vector<ForkEpisodeView> as_parent;      // live episodes it started, newest last
};

struct GroupDetail {
  GroupBy scope = GroupBy::kComm;  // kComm or kCgroup
  std::string name;
  GroupStats stats;
  Tallies poll_delta{};
  double interval_s = 0;
  size_t live_processes = 0;
  std::vector<ProcessRow> processes;  // most active first, at most kMaxDetailProcesses
  std::vector<ForkEpisodeView> episodes;  // live episodes whose parent is in the group
  static constexpr size_t kMaxDetailProcesses = 100;
};

// What the last poll changed, for rate-based consumers (alert rules).
struct ActivityRow {
  ProcKey key;
  std::string comm, cgroup;
  Tallies delta{};
};

struct Activity {
  uint64_t poll = 0;
  uint64_t mono_ns = 0;         // the sample's CLOCK_MONOTONIC time
  double interval_s = 0;
  Tallies host_delta{};
  std::vector<ActivityRow> processes;  // processes with a non-zero delta in that poll
};

}  // namespace cowwatch::model
