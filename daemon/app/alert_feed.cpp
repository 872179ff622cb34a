#include "app/alert_feed.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

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

namespace {

constexpr size_t kPidInId = 4;  // the pid's offset in a process id: "pid " comes first

// Appends a process subject's id: "pid N (comm, started S.SSs after boot)". The start time makes a
// reused pid a new subject; the pid and comm in it are also the subject's labels.
void append_process_id(std::string& out, uint32_t pid, uint64_t start_ns, std::string_view comm) {
  char buf[32];
  out += "pid ";
  out.append(buf, static_cast<size_t>(snprintf(buf, sizeof(buf), "%u", pid)));
  out += " (";
  out += comm;
  out += ", started ";
  out.append(buf, static_cast<size_t>(snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(start_ns) / 1e9)));
  out += "s after boot)";
}

}  // namespace

alerts::Subject process_subject(uint32_t pid, uint64_t start_ns, const std::string& comm,
                                const std::string& cgroup) {
  alerts::Subject s;
  s.scope = alerts::Scope::kProcess;
  append_process_id(s.id, pid, start_ns, comm);
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

alerts::AlertInput AlertFeed::build_anomalies_only() {
  alerts::AlertInput in;
  in.anomalies.swap(anomalies_);
  return in;
}

namespace {

// Where one process sits in the tick's text: its cgroup path, then its id (which holds its pid and
// comm, the other two labels).
struct ProcessText {
  size_t at, cgroup_len, id_len, pid_len, comm_len;
};

ProcessText append_process(std::string& text, const model::Process& p) {
  ProcessText where{text.size(), p.cgroup.size(), 0, 0, p.comm.size()};
  text += p.cgroup;
  const size_t id = text.size();
  append_process_id(text, p.key.tgid, p.key.start_ns, p.comm);
  where.id_len = text.size() - id;
  where.pid_len = text.find(' ', id + kPidInId) - (id + kPidInId);
  return where;
}

}  // namespace

alerts::AlertInput AlertFeed::build(const model::Aggregator& aggregator) {
  alerts::AlertInput in;
  auto snapshot = aggregator.metrics_snapshot();
  in.subjects.reserve(aggregator.tracked_processes() + snapshot->cgroups.size() + 1);
  std::vector<ProcessText> where;
  where.reserve(aggregator.tracked_processes());
  in.text.reserve(aggregator.tracked_processes() * 96);
  aggregator.for_each_process([&](const model::Process& p) {
    where.push_back(append_process(in.text, p));
    in.subjects.push_back({{}, counters_from_tallies(p.totals())});
  });
  std::vector<std::pair<size_t, size_t>> cgroup_at;  // the snapshot dies with this call: copy names
  cgroup_at.reserve(snapshot->cgroups.size());
  for (const auto& g : snapshot->cgroups) {
    cgroup_at.emplace_back(in.text.size(), g.name.size());
    in.text += g.name;
    in.subjects.push_back({{}, counters_from_tallies(g.totals)});
  }
  // The text is complete (no more reallocation): point the views into it.
  const std::string_view text = in.text;
  for (size_t i = 0; i < where.size(); ++i) {
    const ProcessText& p = where[i];
    const std::string_view id = text.substr(p.at + p.cgroup_len, p.id_len);
    alerts::SubjectView view(alerts::Scope::kProcess, id);
    view.add_label("pid", id.substr(kPidInId, p.pid_len));
    view.add_label("comm", id.substr(kPidInId + p.pid_len + 2, p.comm_len));  // after "N ("
    if (p.cgroup_len) view.add_label("cgroup", text.substr(p.at, p.cgroup_len));
    in.subjects[i].subject = view;
  }
  for (size_t i = 0; i < cgroup_at.size(); ++i) {
    const std::string_view name = text.substr(cgroup_at[i].first, cgroup_at[i].second);
    alerts::SubjectView view(alerts::Scope::kCgroup, name);
    view.add_label("cgroup", name);
    in.subjects[where.size() + i].subject = view;
  }
  in.subjects.push_back({alerts::SubjectView(alerts::Scope::kHost, "host"), counters_from_tallies(snapshot->host)});
  for (const auto& view : aggregator.fork_episodes(false)) {
    const auto& ep = view.episode;
    alerts::ForkEpisode f;
    f.parent = process_subject(ep.parent.tgid, ep.parent.start_ns, ep.parent_comm, ep.parent_cgroup);
    f.child_tgid = ep.child.tgid;
    f.copied_bytes = ep.copied_bytes();
    f.projected_bytes = view.projected_bytes;
    f.rss_bound_bytes = ep.parent_rss_anon_bytes.value_or(0);
    in.forks.push_back(std::move(f));
  }
  in.anomalies.swap(anomalies_);
  now_.clear();
  for (auto& sc : in.subjects) {
    const uint64_t key = alerts::subject_hash(sc.subject.scope, sc.subject.id);
    if (!std::binary_search(seen_.begin(), seen_.end(), key)) sc.counters = cw_counters{};
    now_.push_back(key);
  }
  std::sort(now_.begin(), now_.end());
  seen_.swap(now_);
  return in;
}

}  // namespace cowwatch::app
