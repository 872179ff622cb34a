#include "app/alert_feed.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace cowwatch::app {

cw_counters counters_from_tallies(const model::Tallies& t) {
  using namespace model;
  cw_counters c{};
  c.c[CW_C_WP_WRITE] = t[kWpWrite];
  c.c[CW_C_WP_UNSHARE] = t[kWpUnshare];
  c.c[CW_C_WP_SHARED_MAPPING] = t[kWpSharedMapping];
  c.c[CW_C_WP_INCOMPLETE] = t[kWpIncomplete];
  c.c[CW_C_WP_REMOTE] = t[kWpRemote];
  c.c[CW_C_WP_APPROX] = t[kWpApprox];
  for (int r = 0; r < CW_REASON_COUNT; r++) c.c[CW_C_COPY_FIRST + r] = t[copy_tally(r)];
  c.c[CW_C_REUSE_EXCLUSIVE] = t[kReuseExclusive];
  c.c[CW_C_REUSE_SOLE_REF] = t[kReuseSoleRef];
  c.c[CW_C_UNSHARE_NOOP] = t[kUnshareNoop];
  c.c[CW_C_SWAP_ADD] = t[kSwapAddUnpinned] + t[kSwapAddPinned];
  c.c[CW_C_SWAP_ADD_PINNED] = t[kSwapAddPinned];
  c.c[CW_C_PINNED_SWAP_SKIP] = t[kPinnedSwapSkip];
  c.c[CW_C_FORK] = t[kForkNoPins] + t[kForkMmHasPinned] + t[kForkLongterm];
  c.c[CW_C_FORK_MM_HAS_PINNED] = t[kForkMmHasPinned] + t[kForkLongterm];
  c.c[CW_C_FORK_LONGTERM_PINS] = t[kForkLongterm];
  c.c[CW_C_FORK_PINNED_COPIES] = t[kForkPinnedCopies];
  c.c[CW_C_KSM_UNMERGE_COPY] = t[kKsmUnmergeCopy];
  c.c[CW_C_KSM_UNMERGE_NOOP] = t[kKsmUnmergeNoop];
  return c;
}

alerts::Subject process_subject(uint32_t pid, uint64_t start_ns, const std::string& comm,
                                const std::string& cgroup) {
  alerts::Subject s;
  s.scope = alerts::Scope::kProcess;
  char started[32];
  snprintf(started, sizeof(started), "%.2f", static_cast<double>(start_ns) / 1e9);
  s.id = "pid " + std::to_string(pid) + " (" + comm + ", started " + started + "s after boot)";
  s.labels = {{"pid", std::to_string(pid)}, {"comm", comm}};
  if (!cgroup.empty()) s.labels["cgroup"] = cgroup;
  return s;
}

alerts::Subject cgroup_subject(const std::string& path) {
  alerts::Subject s;
  s.scope = alerts::Scope::kCgroup;
  s.id = path;
  s.labels = {{"cgroup", path}};
  return s;
}

alerts::Subject host_subject() {
  alerts::Subject s;
  s.scope = alerts::Scope::kHost;
  s.id = "host";
  return s;
}

void AlertFeed::add_anomaly(const cw_event& event, const std::string& cgroup_path) {
  if (anomalies_.size() >= 4096) return;  // bounded; the counters still carry the totals
  char comm[CW_COMM_LEN + 1] = {};
  std::memcpy(comm, event.comm, CW_COMM_LEN);
  alerts::AnomalyEvent a;
  a.event = event;
  if (event.tgid) a.subjects.push_back(process_subject(event.tgid, event.start_ns, comm, cgroup_path));
  if (!cgroup_path.empty()) a.subjects.push_back(cgroup_subject(cgroup_path));
  a.subjects.push_back(host_subject());
  anomalies_.push_back(std::move(a));
}

const alerts::AlertInput& AlertFeed::build_anomalies_only() {
  input_.subjects.clear();
  input_.forks.clear();
  input_.anomalies.clear();
  input_.anomalies.swap(anomalies_);
  return input_;
}

AlertFeed::Kept& AlertFeed::keep_process(const model::Process& p, bool* fresh) {
  Kept& kept = processes_.try_emplace(p.key).first->second;
  *fresh = kept.tick == 0 || kept.tick + 1 != tick_;
  const auto& labels = kept.subject.labels;
  const auto comm = labels.find("comm");
  const auto cgroup = labels.find("cgroup");
  const bool same_comm = comm != labels.end() && comm->second == p.comm;
  const bool same_cgroup = cgroup == labels.end() ? p.cgroup.empty() : cgroup->second == p.cgroup;
  if (!same_comm) *fresh = true;  // the name is part of the id: a new subject for the engine
  if (!same_comm || !same_cgroup) kept.subject = process_subject(p.key.tgid, p.key.start_ns, p.comm, p.cgroup);
  kept.tick = tick_;
  return kept;
}

AlertFeed::Kept& AlertFeed::keep_cgroup(const std::string& path, bool* fresh) {
  Kept& kept = cgroups_.try_emplace(path).first->second;
  *fresh = kept.tick == 0 || kept.tick + 1 != tick_;
  if (kept.tick == 0) kept.subject = cgroup_subject(path);
  kept.tick = tick_;
  return kept;
}

void AlertFeed::forget_unlisted() {
  std::erase_if(processes_, [this](const auto& entry) { return entry.second.tick != tick_; });
  std::erase_if(cgroups_, [this](const auto& entry) { return entry.second.tick != tick_; });
}

const alerts::AlertInput& AlertFeed::build(const model::Aggregator& aggregator) {
  ++tick_;
  input_.subjects.clear();  // keeps its capacity: no per-tick allocation at a steady size
  input_.forks.clear();
  input_.anomalies.clear();
  auto snapshot = aggregator.metrics_snapshot();
  input_.subjects.reserve(aggregator.tracked_processes() + snapshot->cgroups.size() + 1);
  bool fresh = false;
  aggregator.for_each_process([&](const model::Process& p) {
    const Kept& kept = keep_process(p, &fresh);
    input_.subjects.push_back({&kept.subject, fresh ? cw_counters{} : counters_from_tallies(p.totals())});
  });
  for (const auto& g : snapshot->cgroups) {
    const Kept& kept = keep_cgroup(g.name, &fresh);
    input_.subjects.push_back({&kept.subject, fresh ? cw_counters{} : counters_from_tallies(g.totals)});
  }
  fresh = host_.tick == 0 || host_.tick + 1 != tick_;
  host_.tick = tick_;
  input_.subjects.push_back({&host_.subject, fresh ? cw_counters{} : counters_from_tallies(snapshot->host)});
  forget_unlisted();
  for (const auto& view : aggregator.fork_episodes(false)) {
    const auto& ep = view.episode;
    alerts::ForkEpisode f;
    f.parent = process_subject(ep.parent.tgid, ep.parent.start_ns, ep.parent_comm, ep.parent_cgroup);
    f.child_tgid = ep.child.tgid;
    f.copied_bytes = ep.copied_bytes();
    f.projected_bytes = view.projected_bytes;
    f.rss_bound_bytes = ep.parent_rss_anon_bytes.value_or(0);
    input_.forks.push_back(std::move(f));
  }
  input_.anomalies.swap(anomalies_);
  return input_;
}

}  // namespace cowwatch::app
