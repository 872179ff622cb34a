// Aggregator, the read side: the metrics snapshot and the CLI's queries. Every method copies
// what it needs under the lock and returns plain values.
#include <algorithm>
#include <unordered_map>

#include "model/aggregator.h"

namespace cowwatch::model {
namespace {

std::vector<GroupRow> group_rows(const GroupTable& table) {
  std::vector<GroupRow> rows;
  rows.reserve(table.entries().size());
  for (const auto& [name, stats] : table.entries())
    rows.push_back({name, stats.totals, stats.fork_copied_bytes});
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return rows;
}

double per_second(uint64_t value, double interval_s) {
  return interval_s > 0 ? double(value) / interval_s : 0;
}

}  // namespace

const char* sort_key_name(SortKey key) {
  switch (key) {
    case SortKey::kCopies: return "copies";
    case SortKey::kCopiedBytes: return "copied_bytes";
    case SortKey::kUnshares: return "unshares";
    case SortKey::kSwapAdds: return "swap_adds";
    case SortKey::kFaults: return "faults";
  }
  return "copies";
}

const char* group_by_name(GroupBy group) {
  switch (group) {
    case GroupBy::kProcess: return "process";
    case GroupBy::kCgroup: return "cgroup";
    case GroupBy::kComm: return "comm";
  }
  return "process";
}

uint64_t sort_value(SortKey key, const Tallies& t) {
  switch (key) {
    case SortKey::kCopies: return copies(t);
    case SortKey::kCopiedBytes: return copied_bytes(t);
    case SortKey::kUnshares: return gup_unshares(t);
    case SortKey::kSwapAdds: return swap_adds(t);
    case SortKey::kFaults: return wp_faults(t);
  }
  return 0;
}

ForkEpisodeView Aggregator::episode_view(const ForkEpisode& episode) const {
  return {episode, episode.projected_bytes(options_.fork_projection_horizon_s),
          options_.fork_projection_horizon_s};
}

ProcessRow Aggregator::process_row(const Process& process) const {
  ProcessRow row{process.key.tgid, process.key.start_ns, process.comm, process.cgroup,
                 process.totals()};
  if (const ForkEpisode* episode = episodes_.newest_as_parent(process.key)) {
    row.fork_copied_bytes = episode->copied_bytes();
    row.fork_projected_bytes = episode->projected_bytes(options_.fork_projection_horizon_s);
  }
  return row;
}

std::shared_ptr<const MetricsSnapshot> Aggregator::metrics_snapshot() const {
  std::lock_guard lock(mutex_);
  if (snapshot_ && snapshot_version_ == version_) return snapshot_;
  auto snapshot = std::make_shared<MetricsSnapshot>();
  snapshot->poll = poll_;
  snapshot->host = host_totals_;
  snapshot->cgroups = group_rows(cgroups_);
  snapshot->comms = group_rows(comms_);
  for (const ProcKey& key : top_keys_) {
    if (const Process* process = processes_.find(key))
      snapshot->top_processes.push_back(process_row(*process));
  }
  snapshot->tracked_processes = processes_.size();
  snapshot_ = std::move(snapshot);
  snapshot_version_ = version_;
  return snapshot_;
}

void Aggregator::for_each_process(const std::function<void(const Process&)>& fn) const {
  std::lock_guard lock(mutex_);
  for (const auto& [key, process] : processes_.all()) fn(process);
}

TopResult Aggregator::top(const TopQuery& query) const {
  std::lock_guard lock(mutex_);
  TopResult result{query, interval_s_, {}};
  auto add_row = [&](TopRow row) {
    row.value = sort_value(query.sort, row.totals);
    row.rate_per_s = per_second(sort_value(query.sort, row.poll_delta), interval_s_);
    result.rows.push_back(std::move(row));
  };
  if (query.group == GroupBy::kProcess) {
    for (const auto& [key, process] : processes_.all()) {
      TopRow row;
      row.name = process.comm;
      row.pid = key.tgid;
      row.start_ns = key.start_ns;
      row.comm = process.comm;
      row.cgroup = process.cgroup;
      row.totals = process.totals();
      row.poll_delta = process.delta_of(poll_);
      add_row(std::move(row));
    }
  } else {
    const bool by_comm = query.group == GroupBy::kComm;
    const GroupTable& table = by_comm ? comms_ : cgroups_;
    std::unordered_map<std::string, size_t> members;
    for (const auto& [key, process] : processes_.all())
      ++members[table.slot_name(by_comm ? process.comm : process.cgroup)];
    for (const auto& [name, stats] : table.entries()) {
      TopRow row;
      row.name = name;
      row.live_processes = members.count(name) ? members[name] : 0;
      row.totals = stats.totals;
      row.poll_delta = stats.delta_of(poll_);
      add_row(std::move(row));
    }
  }
  auto before = [](const TopRow& a, const TopRow& b) {
    if (a.rate_per_s != b.rate_per_s) return a.rate_per_s > b.rate_per_s;
    if (a.value != b.value) return a.value > b.value;
    return a.name != b.name ? a.name < b.name : a.pid < b.pid;
  };
  size_t limit = std::min(query.limit, result.rows.size());
  std::partial_sort(result.rows.begin(), result.rows.begin() + limit, result.rows.end(), before);
  result.rows.resize(limit);
  return result;
}

std::optional<ProcessDetail> Aggregator::query_pid(uint32_t pid) const {
  std::lock_guard lock(mutex_);
  const Process* best = nullptr;
  for (const auto& [key, process] : processes_.all()) {
    if (key.tgid != pid) continue;
    // Prefer the live process over an exited one still waiting for its flush, then the newest.
    if (!best || std::pair(!process.exited, key.start_ns) > std::pair(!best->exited, best->key.start_ns))
      best = &process;
  }
  if (!best) return std::nullopt;
  ProcessDetail detail;
  detail.row = process_row(*best);
  detail.exited = best->exited;
  detail.anomaly_events = best->anomaly_events;
  detail.poll_delta = best->delta_of(poll_);
  detail.interval_s = interval_s_;
  if (const ForkEpisode* episode = episodes_.as_child(best->key)) detail.as_child = episode_view(*episode);
  for (const auto& [id, episode] : episodes_.live()) {
    if (episode.parent == best->key) detail.as_parent.push_back(episode_view(episode));
  }
  return detail;
}

std::optional<ProcessRow> Aggregator::process(const ProcKey& key) const {
  std::lock_guard lock(mutex_);
  const Process* found = processes_.find(key);
  if (!found) return std::nullopt;
  return process_row(*found);
}

std::optional<GroupDetail> Aggregator::group_detail(GroupBy scope, const std::string& name) const {
  std::lock_guard lock(mutex_);
  const bool by_comm = scope == GroupBy::kComm;
  const GroupTable& table = by_comm ? comms_ : cgroups_;
  const GroupStats* stats = table.find(name);
  if (!stats) return std::nullopt;
  GroupDetail detail;
  detail.scope = scope;
  detail.name = name;
  detail.stats = *stats;
  detail.poll_delta = stats->delta_of(poll_);
  detail.interval_s = interval_s_;
  std::vector<const Process*> members;
  for (const auto& [key, process] : processes_.all()) {
    if (table.slot_name(by_comm ? process.comm : process.cgroup) == name) members.push_back(&process);
  }
  detail.live_processes = members.size();
  size_t shown = std::min(members.size(), GroupDetail::kMaxDetailProcesses);
  std::partial_sort(members.begin(), members.begin() + shown, members.end(),
                    [](const Process* a, const Process* b) {
                      if (a->activity != b->activity) return a->activity > b->activity;
                      return activity(a->totals()) > activity(b->totals());
                    });
  for (size_t i = 0; i < shown; ++i) detail.processes.push_back(process_row(*members[i]));
  for (const auto& [id, episode] : episodes_.live()) {
    const std::string& parent_name = by_comm ? episode.parent_comm : episode.parent_cgroup;
    if (table.slot_name(parent_name) == name) detail.episodes.push_back(episode_view(episode));
  }
  return detail;
}

std::optional<GroupDetail> Aggregator::query_comm(const std::string& comm) const {
  return group_detail(GroupBy::kComm, comm);
}

std::optional<GroupDetail> Aggregator::query_cgroup(const std::string& path) const {
  std::string name = path;
  while (name.size() > 1 && name.front() == '/') name.erase(0, 1);
  return group_detail(GroupBy::kCgroup, name.empty() ? "/" : name);
}

std::vector<ForkEpisodeView> Aggregator::fork_episodes(bool include_recently_ended) const {
  std::lock_guard lock(mutex_);
  std::vector<ForkEpisodeView> views;
  if (include_recently_ended) {
    for (const ForkEpisode& episode : episodes_.recently_ended()) views.push_back(episode_view(episode));
  }
  for (const auto& [id, episode] : episodes_.live()) views.push_back(episode_view(episode));
  return views;
}

Activity Aggregator::last_activity() const {
  std::lock_guard lock(mutex_);
  Activity result{poll_, mono_ns_, interval_s_, host_delta_, last_exited_activity_};
  for (const auto& [key, process] : processes_.all()) {
    if (process.delta_poll == poll_)
      result.processes.push_back({key, process.comm, process.cgroup, process.delta_of(poll_)});
  }
  return result;
}

size_t Aggregator::tracked_processes() const {
  std::lock_guard lock(mutex_);
  return processes_.size();
}

std::array<uint64_t, CW_EV_TYPE_COUNT> Aggregator::events_received() const {
  std::lock_guard lock(mutex_);
  return events_received_;
}

}  // namespace cowwatch::model
