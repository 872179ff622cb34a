// Aggregator, the ingest side: apply(), on_event(), on_exit(). Queries are in
// aggregator_queries.cpp.
#include "model/aggregator.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <limits>

namespace cowwatch::model {
namespace {

// How many consecutive polls a process may miss from the kernel sample before /proc is asked
// whether it still exists, and how often that question is repeated for a live one.
constexpr uint32_t kAbsentPollsBeforeGc = 2;
constexpr uint32_t kGcRecheckEvery = 8;

size_t tombstone_capacity(const AggregatorOptions& options) {
  if (options.max_tombstones) return options.max_tombstones;
  return std::max<size_t>(1024, options.max_processes / 4);
}

std::string comm_string(const char* comm) {
  return std::string(comm, strnlen(comm, CW_COMM_LEN));
}

}  // namespace

Aggregator::Aggregator(AggregatorOptions options)
    : options_(std::move(options)),
      proc_(options_.proc_root),
      cgroups_resolver_(options_.cgroup_root),
      processes_(options_.max_processes, tombstone_capacity(options_)),
      comms_(options_.max_comms),
      cgroups_(options_.max_cgroups),
      episodes_(options_.max_ended_fork_episodes) {}

Process* Aggregator::track(const ProcKey& key) {
  std::vector<Process> evicted;
  Process* process = processes_.find_or_create(key, poll_, &evicted);
  for (Process& gone : evicted) forget(std::move(gone), mono_ns_);
  return process;
}

// Evicted or removed: its counts are already in the group tables; only episodes remain.
void Aggregator::forget(Process&& process, uint64_t now_ns) {
  episodes_.end_child(process.key, now_ns);
}

void Aggregator::set_comm(Process& process, const char* comm, NameSource source) {
  if (source < process.comm_source) return;
  const std::string_view name(comm, strnlen(comm, CW_COMM_LEN));
  if (name.empty() || (source == process.comm_source && process.comm == name)) return;  // per event: no copy
  process.comm.assign(name);
  process.comm_source = source;
}

// The kernel keeps each process's name in its counters, written at its own events, so the counts
// in hand carry the name they were made under even when no record named the process (lost, or
// still unread behind the counts). A name that changed there since the last sample is a rename;
// the first one seen yields to a /proc read that follows it (resolve_identity), which is newer.
void Aggregator::take_kernel_comm(Process& process, const cw_counters& counters) {
  const std::string_view name(counters.comm, strnlen(counters.comm, CW_COMM_LEN));
  if (name.empty() || name == process.kernel_comm) return;
  process.kernel_comm.assign(name);
  rename(process, counters.comm);
}

// A cgroup id the resolver cannot name (removed before it was ever walked) is "_unknown", not
// the previous cgroup: counts after a move never go back to where the process was.
void Aggregator::set_cgroup_from_id(Process& process, uint64_t cgroup_id) {
  if (cgroup_id == 0 || (process.cgroup_known && process.cgroup_id == cgroup_id)) return;
  auto path = cgroups_resolver_.resolve(cgroup_id);
  if (!path && (!process.cgroup_known || process.cgroup_id == 0)) return;  // keep what /proc said
  process.cgroup = path ? *path : std::string(kUnknownName);
  process.cgroup_id = cgroup_id;
  process.cgroup_known = path.has_value();
}

void Aggregator::resolve_identity(Process& process) {
  if (!process.identity_pending) return;
  process.identity_pending = false;
  if (proc_.liveness(process.key) != Liveness::kSame) return;
  if (auto comm = proc_.comm(process.key.tgid)) set_comm(process, comm->c_str(), NameSource::kProc);
  if (!process.cgroup_known) {
    if (cgroups_resolver_.hierarchy().v1_only) {
      process.cgroup = kCgroupV1Name;
      process.cgroup_known = true;
    } else if (auto path = proc_.cgroup(process.key.tgid)) {
      process.cgroup = *path;
      process.cgroup_known = true;
    }
  }
}

void Aggregator::attribute(Process& process, const Tallies& delta, uint64_t poll) {
  if (is_zero(delta)) return;
  if (process.delta_poll != poll) {
    process.last_delta.fill(0);
    process.delta_poll = poll;
  }
  for (size_t i = 0; i < delta.size(); ++i) {
    uint64_t sum = uint64_t(process.last_delta[i]) + delta[i];
    process.last_delta[i] = uint32_t(std::min<uint64_t>(sum, std::numeric_limits<uint32_t>::max()));
  }
  process.last_active_poll = poll;
  process.activity += double(activity(delta));
  comms_.add(process.comm, delta, poll);
  cgroups_.add(process.cgroup, delta, poll);
  if (uint64_t shared = delta[copy_tally(CW_REASON_SHARED)]) {
    if (const ForkEpisode* episode = episodes_.charge(process.key, shared * CW_PAGE_SIZE))
      comms_.entry(episode->parent_comm).fork_copied_bytes += shared * CW_PAGE_SIZE;
  }
}

void Aggregator::apply(const ingest::KernelSample& sample) {
  std::lock_guard lock(mutex_);
  ++poll_;
  interval_s_ = mono_ns_ && sample.mono_ns > mono_ns_ ? double(sample.mono_ns - mono_ns_) / 1e9 : 0;
  mono_ns_ = sample.mono_ns;
  cgroups_resolver_.new_poll();

  host_delta_ = host_baseline_.advance(sample.host);
  add_tallies(host_totals_, host_delta_);

  for (const ingest::ProcessCounters& entry : sample.processes) {
    Process* process = track(ProcKey::from(entry.key));
    if (!process) continue;  // flushed at exit already; the kernel entry is on its way out
    process->absent_polls = 0;
    process->seen_poll = poll_;
    take_kernel_comm(*process, entry.counters);
    resolve_identity(*process);
    // The kernel notes the cgroup at the process's own events: follow moves (systemd forks a
    // service in init.scope and moves it before exec). This poll's counts go to the new cgroup.
    set_cgroup_from_id(*process, entry.counters.cgroup_id);
    attribute(*process, process->counters.advance(entry.counters), poll_);
  }

  // Vanished processes: absent from the sample twice and gone from /proc (or the pid reused).
  std::vector<ProcKey> vanished;
  for (auto& [key, process] : processes_.all()) {
    process.activity *= 0.5;
    if (process.seen_poll == poll_) continue;
    uint32_t absent = ++process.absent_polls;
    if (absent < kAbsentPollsBeforeGc) continue;
    if (process.exited || ((absent - kAbsentPollsBeforeGc) % kGcRecheckEvery == 0 &&
                           proc_.liveness(key) != Liveness::kSame))
      vanished.push_back(key);
  }
  for (const ProcKey& key : vanished) forget(processes_.remove(key, true), mono_ns_);

  episodes_.update_rates(interval_s_);
  last_exited_activity_ = std::move(exited_activity_);
  exited_activity_.clear();
  select_top_processes();
  ++version_;
}

void Aggregator::select_top_processes() {
  std::vector<std::pair<std::pair<double, uint64_t>, ProcKey>> ranked;
  ranked.reserve(processes_.size());
  for (const auto& [key, process] : processes_.all()) {
    if (!process.exited) ranked.push_back({{process.activity, activity(process.totals())}, key});
  }
  size_t k = std::min(options_.top_k_processes, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + k, ranked.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  top_keys_.clear();
  for (size_t i = 0; i < k; ++i) {
    top_keys_.push_back(ranked[i].second);
    // Exported processes get their comm refreshed: exec changes it, pid and start time stay.
    Process* process = processes_.find(ranked[i].second);
    if (proc_.liveness(process->key) == Liveness::kSame) {
      if (auto comm = proc_.comm(process->key.tgid))
        set_comm(*process, comm->c_str(), NameSource::kProc);
    }
  }
}

void Aggregator::on_event(const cw_event& event) { on_events(&event, 1); }

void Aggregator::on_events(const cw_event* events, size_t count) {
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < count; i++) apply_event(events[i]);
}

void Aggregator::apply_event(const cw_event& event) {
  if (event.type < CW_EV_TYPE_COUNT) ++events_received_[event.type];
  switch (event.type) {
    case CW_EV_FAULT: {
      Process* owner = track({event.tgid, event.start_ns});
      if (!owner) break;
      if (event.actor_tgid == event.tgid) set_comm(*owner, event.comm, NameSource::kEvent);
      set_cgroup_from_id(*owner, event.cgroup_id);
      if (event.anomaly) ++owner->anomaly_events;
      break;
    }
    case CW_EV_FORK:
      on_fork(event);
      break;
    case CW_EV_EXIT:
      on_exit_record(event);
      break;
    case CW_EV_EXEC:
      on_exec(event);
      break;
    case CW_EV_RENAME:
      if (Process* process = track({event.tgid, event.start_ns})) rename(*process, event.comm);
      break;
    case CW_EV_CGROUP_MOVE:
      cgroup_move(event, nullptr);
      break;
    case CW_EV_SWAP_ADD:
    case CW_EV_PINNED_SWAP_SKIP: {
      auto path = cgroups_resolver_.resolve(event.aux0);
      GroupStats& stats = cgroups_.entry(path ? *path : std::string(kUnknownName));
      ++(event.type == CW_EV_SWAP_ADD ? stats.swap_add_events : stats.pinned_swap_skip_events);
      break;
    }
    default:
      break;
  }
}

void Aggregator::on_fork(const cw_event& event) {
  const ProcKey parent_key{event.tgid, event.start_ns};
  const ProcKey child_key{event.aux2, event.aux0};
  Process* parent = track(parent_key);
  std::string parent_comm = comm_string(event.comm), parent_cgroup = kUnknownName;
  uint64_t parent_cgroup_id = 0;
  bool parent_cgroup_known = false;
  if (parent) {
    resolve_identity(*parent);
    set_comm(*parent, event.comm, NameSource::kEvent);
    set_cgroup_from_id(*parent, event.cgroup_id);
    parent->last_active_poll = poll_;
    parent_comm = parent->comm;
    parent_cgroup = parent->cgroup;
    parent_cgroup_id = parent->cgroup_id;
    parent_cgroup_known = parent->cgroup_known;
  }
  // `parent` may be evicted to make room for the child: only the copies above are used below.
  if (Process* child = track(child_key)) {
    set_comm(*child, parent_comm.c_str(), NameSource::kInherited);
    if (!child->cgroup_known && parent_cgroup_known) {
      child->cgroup = parent_cgroup;
      child->cgroup_id = parent_cgroup_id;
      child->cgroup_known = true;
    }
  }
  if (rss_poll_ != poll_ || !(rss_parent_ == parent_key)) {
    rss_parent_ = parent_key;
    rss_poll_ = poll_;
    rss_bytes_ = proc_.rss_anon_bytes(parent_key.tgid);
  }
  ForkEpisode& episode = episodes_.start(parent_key, child_key, event.ts_ns);
  episode.parent_comm = parent_comm;
  episode.parent_cgroup = parent_cgroup;
  episode.parent_rss_anon_bytes = rss_bytes_;
  episode.parent_pinned_pages = event.aux1;
}

void Aggregator::on_exit_record(const cw_event& event) {
  const ProcKey key{event.tgid, event.start_ns};
  Process* process = track(key);
  if (!process) return;  // already flushed
  set_comm(*process, event.comm, NameSource::kEvent);
  if (!process->cgroup_known) set_cgroup_from_id(*process, event.cgroup_id);
  // Its episode ends when the final counters are in (on_exit), or when it is collected.
  process->exited = true;
}

// exec replaces the memory: the process no longer shares pages with a parent or with children
// it forked, so those episodes end (copies not yet polled stay with the process, not the
// episode). Its name is the new image's from here on, whatever named it before.
void Aggregator::on_exec(const cw_event& event) {
  const ProcKey key{event.tgid, event.start_ns};
  episodes_.end_child(key, event.ts_ns);
  episodes_.end_parent(key, event.ts_ns);
  Process* process = track(key);
  if (!process) return;
  rename(*process, event.comm);
  set_cgroup_from_id(*process, event.cgroup_id);
}

void Aggregator::on_cgroup_move(const cw_event& event, const cw_counters* counters_at_move) {
  std::lock_guard lock(mutex_);
  ++events_received_[CW_EV_CGROUP_MOVE];
  cgroup_move(event, counters_at_move);
}

// Counts up to the move go to the cgroup the process was in (the record's old id when the model
// had none yet: /proc would already show the new one); the new path is resolved now, while the
// cgroup surely exists.
void Aggregator::cgroup_move(const cw_event& event, const cw_counters* counters_at_move) {
  Process* process = track({event.tgid, event.start_ns});
  if (!process) return;
  // The mover is the group leader (the BPF side checks): the record names the process, as do its
  // counters, for a process whose fork record was lost and that is gone from /proc by now.
  set_comm(*process, event.comm, NameSource::kEvent);
  if (counters_at_move) take_kernel_comm(*process, *counters_at_move);
  if (!process->cgroup_known) set_cgroup_from_id(*process, event.aux0);
  resolve_identity(*process);
  if (counters_at_move) attribute(*process, process->counters.advance(*counters_at_move), poll_ + 1);
  set_cgroup_from_id(*process, event.cgroup_id);
  ++version_;
}

// The kernel says the name changed: newer than anything read before, whatever its source.
void Aggregator::rename(Process& process, const char* comm) {
  const std::string_view name(comm, strnlen(comm, CW_COMM_LEN));
  if (name.empty()) return;
  process.comm.assign(name);
  process.comm_source = NameSource::kEvent;  // a /proc read after this is as new: it may replace it
  ++version_;
}

void Aggregator::on_exit(const cw_proc_key& kernel_key, const cw_counters& final_counters) {
  std::lock_guard lock(mutex_);
  const ProcKey key = ProcKey::from(kernel_key);
  Process* process = track(key);
  if (!process) return;  // flushed twice
  take_kernel_comm(*process, final_counters);
  set_cgroup_from_id(*process, final_counters.cgroup_id);  // where it was at its last event
  // A zombie's /proc shows the name and cgroup its final counters (or exit record) just gave:
  // read it only for what they lack (three /proc reads per short-lived process otherwise).
  if (process->comm_source < NameSource::kEvent || !process->cgroup_known) {
    resolve_identity(*process);
    set_cgroup_from_id(*process, final_counters.cgroup_id);
  }
  const uint64_t poll = poll_ + 1;  // counts flushed between polls belong to the next one
  Tallies delta = process->counters.advance(final_counters);
  attribute(*process, delta, poll);
  if (!is_zero(delta)) exited_activity_.push_back({key, process->comm, process->cgroup, delta});
  forget(processes_.remove(key, true), mono_ns_);
  ++version_;
}

void Aggregator::reset_kernel_baselines() {
  std::lock_guard lock(mutex_);
  host_baseline_.reset();
  processes_.clear();
  episodes_.clear();
  top_keys_.clear();
  ++version_;
}

}  // namespace cowwatch::model
