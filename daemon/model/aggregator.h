// Aggregator: turns what the kernel side reports into the model the exporters read.
//
// Fed from one thread (the daemon's ingest loop):
//   apply(sample)     every poll: absolute per-process counters (keyed by (tgid, start_ns)),
//                     exact host totals, drops and program stats;
//   on_event(event)   every ring record: fork (starts a fork episode), exit, fault detail,
//                     swap records; supplies comm and cgroup identity;
//   on_exit(key, c)   after ingest read and deleted the exiting process's kernel entry;
//   on_cgroup_move(e, c) a process moved to another cgroup, with its counters at the move.
// Read from any thread (Prometheus scrapes, the control socket, alert evaluation): every public
// method takes the one mutex; readers get copies (metrics_snapshot() is built at most once per
// poll and shared), so scrape-time work under the lock is a pointer copy.
//
// Counting: each process's kernel counters are absolute since the kernel first saw it; the
// aggregator keeps what it saw (Baseline) and adds deltas to the per-comm and per-cgroup tables
// as they happen, so an exited, evicted or vanished process leaves its counts in those totals and
// every exported total stays monotonic. Host totals come from the kernel's exact host counters
// (they include what could not be attributed to a process).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cowwatch.h"
#include "ingest/kernel_sample.h"
#include "model/cgroup_resolver.h"
#include "model/fork_episodes.h"
#include "model/group_table.h"
#include "model/proc_reader.h"
#include "model/process_table.h"
#include "model/views.h"

namespace cowwatch::model {

class Aggregator {
 public:
  explicit Aggregator(AggregatorOptions options = {});

  void apply(const ingest::KernelSample& sample);
  void on_event(const cw_event& event);
  // The same for a batch, under one lock: the reader hands over runs of ordinary fault records.
  void on_events(const cw_event* events, size_t count);
  void on_exit(const cw_proc_key& key, const cw_counters& final_counters);
  // A CW_EV_CGROUP_MOVE record with the process's counters at the move (the kernel keeps them
  // until taken; nullptr when none were kept): counts up to the move stay with the old cgroup,
  // later ones go to the new. on_event() of such a record is this without counters: the
  // counts since the last poll then go to the new cgroup.
  void on_cgroup_move(const cw_event& event, const cw_counters* counters_at_move);
  // The kernel's maps were re-created (counters restart at zero): host totals continue from
  // their current values, tracked processes and fork episodes are dropped.
  void reset_kernel_baselines();

  std::shared_ptr<const MetricsSnapshot> metrics_snapshot() const;
  TopResult top(const TopQuery& query) const;
  // Visits every tracked process, unordered, under the lock (fn must not call the aggregator):
  // for consumers of all processes that need neither a sort nor copies (the alert feed).
  void for_each_process(const std::function<void(const Process&)>& fn) const;
  std::optional<ProcessDetail> query_pid(uint32_t pid) const;  // scans: for the CLI
  // One tracked process by identity, O(1): for per-event lookups (e.g. an anomaly's cgroup).
  std::optional<ProcessRow> process(const ProcKey& key) const;
  std::optional<GroupDetail> query_comm(const std::string& comm) const;
  std::optional<GroupDetail> query_cgroup(const std::string& path) const;  // "/" is the root
  std::vector<ForkEpisodeView> fork_episodes(bool include_recently_ended = false) const;
  Activity last_activity() const;
  size_t tracked_processes() const;
  std::array<uint64_t, CW_EV_TYPE_COUNT> events_received() const;
  const AggregatorOptions& options() const { return options_; }

 private:
  Process* track(const ProcKey& key);
  void resolve_identity(Process& process);
  void set_comm(Process& process, const char* comm, NameSource source);
  void take_kernel_comm(Process& process, const cw_counters& counters);
  void set_cgroup_from_id(Process& process, uint64_t cgroup_id);
  void attribute(Process& process, const Tallies& delta, uint64_t poll);
  void forget(Process&& process, uint64_t now_ns);
  void select_top_processes();
  void apply_event(const cw_event& event);  // on_events, under the lock
  void on_exec(const cw_event& event);
  void rename(Process& process, const char* comm);
  void on_fork(const cw_event& event);
  void on_exit_record(const cw_event& event);
  void cgroup_move(const cw_event& event, const cw_counters* counters_at_move);
  ForkEpisodeView episode_view(const ForkEpisode& episode) const;
  ProcessRow process_row(const Process& process) const;
  std::optional<GroupDetail> group_detail(GroupBy scope, const std::string& name) const;

  const AggregatorOptions options_;
  mutable std::mutex mutex_;
  ProcReader proc_;
  CgroupResolver cgroups_resolver_;
  ProcessTable processes_;
  GroupTable comms_;
  GroupTable cgroups_;
  ForkEpisodes episodes_;

  Baseline host_baseline_;
  Tallies host_totals_{};
  Tallies host_delta_{};
  uint64_t poll_ = 0;
  uint64_t mono_ns_ = 0;
  double interval_s_ = 0;
  std::vector<ProcKey> top_keys_;
  std::vector<ActivityRow> exited_activity_;  // final deltas flushed since the last poll
  std::vector<ActivityRow> last_exited_activity_;
  std::array<uint64_t, CW_EV_TYPE_COUNT> events_received_{};
  // RssAnon read at a fork, reused for further forks of the same parent in the same poll.
  ProcKey rss_parent_{};
  uint64_t rss_poll_ = UINT64_MAX;
  std::optional<uint64_t> rss_bytes_;

  uint64_t version_ = 0;  // bumped by every change a snapshot shows
  mutable uint64_t snapshot_version_ = UINT64_MAX;
  mutable std::shared_ptr<const MetricsSnapshot> snapshot_;
};

}  // namespace cowwatch::model
