#include "model/json_views.h"

namespace cowwatch::model {
namespace {

using nlohmann::json;

json process_row_json(const ProcessRow& row) {
  return {{"pid", row.pid},
          {"start_ns", row.start_ns},
          {"comm", row.comm},
          {"cgroup", row.cgroup},
          {"counters", tallies_json(row.totals)},
          {"fork_copied_bytes", row.fork_copied_bytes},
          {"fork_projected_bytes", row.fork_projected_bytes}};
}

json rates_json(const Tallies& delta, double interval_s) {
  auto rate = [&](uint64_t v) { return interval_s > 0 ? double(v) / interval_s : 0.0; };
  return {{"wp_faults", rate(wp_faults(delta))},
          {"copies", rate(copies(delta))},
          {"copied_bytes", rate(copied_bytes(delta))},
          {"unshares", rate(gup_unshares(delta))},
          {"swap_adds", rate(swap_adds(delta))}};
}

json process_key_json(const ProcKey& key) { return {{"pid", key.tgid}, {"start_ns", key.start_ns}}; }

}  // namespace

json tallies_json(const Tallies& t) {
  json reasons = json::object();
  for (int r = 0; r < CW_REASON_COUNT; ++r) reasons[copy_reason_name(r)] = t[copy_tally(r)];
  json decisions = json::object();
  for (size_t d = 0; d < kDecisionNames.size(); ++d) decisions[kDecisionNames[d]] = decision_count(t, d);
  return {
      {"wp_faults", {{"write", t[kWpWrite]}, {"unshare", t[kWpUnshare]}}},
      {"wp_faults_remote", t[kWpRemote]},
      {"wp_faults_approx", t[kWpApprox]},
      {"decisions", decisions},
      {"cow_copies", reasons},
      {"cow_copies_total", copies(t)},
      {"cow_copied_bytes", copied_bytes(t)},
      {"cow_reuses", {{"exclusive", t[kReuseExclusive]}, {"sole_ref", t[kReuseSoleRef]}}},
      {"gup_unshares", {{"copy", t[copy_tally(CW_REASON_UNSHARE)]}, {"noop", t[kUnshareNoop]}}},
      {"ksm_unmerges", {{"copy", t[kKsmUnmergeCopy]}, {"noop", t[kKsmUnmergeNoop]}}},
      {"swap_adds", {{"pinned", t[kSwapAddPinned]}, {"unpinned", t[kSwapAddUnpinned]}}},
      {"pinned_swap_skips", t[kPinnedSwapSkip]},
      {"forks",
       {{"none", t[kForkNoPins]}, {"mm_has_pinned", t[kForkMmHasPinned]}, {"longterm", t[kForkLongterm]}}},
  };
}

json to_json(const TopResult& result) {
  json rows = json::array();
  for (const TopRow& row : result.rows) {
    json out;
    if (result.query.group == GroupBy::kProcess) {
      out = {{"pid", row.pid}, {"start_ns", row.start_ns}, {"comm", row.comm}, {"cgroup", row.cgroup}};
    } else {
      out = {{group_by_name(result.query.group), row.name}, {"processes", row.live_processes}};
    }
    out["value"] = row.value;
    out["rate_per_s"] = row.rate_per_s;
    out["counters"] = tallies_json(row.totals);
    out["rates_per_s"] = rates_json(row.poll_delta, result.interval_s);
    rows.push_back(std::move(out));
  }
  return {{"sort", sort_key_name(result.query.sort)},
          {"by", group_by_name(result.query.group)},
          {"limit", result.query.limit},
          {"interval_s", result.interval_s},
          {"rows", rows}};
}

json to_json(const ForkEpisodeView& view) {
  const ForkEpisode& e = view.episode;
  return {{"id", e.id},
          {"parent", process_key_json(e.parent)},
          {"child", process_key_json(e.child)},
          {"parent_comm", e.parent_comm},
          {"parent_cgroup", e.parent_cgroup},
          {"started_ns", e.started_ns},
          {"live", e.live},
          {"ended_ns", e.live ? json(nullptr) : json(e.ended_ns)},
          {"parent_rss_anon_bytes", e.parent_rss_anon_bytes ? json(*e.parent_rss_anon_bytes) : json(nullptr)},
          {"parent_pinned_pages", e.parent_pinned_pages},
          {"copied_bytes", e.copied_bytes()},
          {"child_copied_bytes", e.child_copied_bytes},
          {"parent_copied_bytes", e.parent_copied_bytes},
          {"rate_bytes_per_s", e.rate_bytes_per_s},
          {"projected_bytes", view.projected_bytes},
          {"projection_horizon_s", view.horizon_s}};
}

json to_json(const std::vector<ForkEpisodeView>& episodes) {
  json out = json::array();
  for (const ForkEpisodeView& view : episodes) out.push_back(to_json(view));
  return out;
}

json to_json(const ProcessDetail& detail) {
  json out = process_row_json(detail.row);
  out["scope"] = "pid";
  out["exited"] = detail.exited;
  out["anomaly_events"] = detail.anomaly_events;
  out["interval_s"] = detail.interval_s;
  out["rates_per_s"] = rates_json(detail.poll_delta, detail.interval_s);
  out["fork"] = {{"as_child", detail.as_child ? to_json(*detail.as_child) : json(nullptr)},
                 {"as_parent", to_json(detail.as_parent)}};
  return out;
}

json to_json(const GroupDetail& detail) {
  json processes = json::array();
  for (const ProcessRow& row : detail.processes) processes.push_back(process_row_json(row));
  json out = {{"scope", group_by_name(detail.scope)},
              {group_by_name(detail.scope), detail.name},
              {"counters", tallies_json(detail.stats.totals)},
              {"interval_s", detail.interval_s},
              {"rates_per_s", rates_json(detail.poll_delta, detail.interval_s)},
              {"live_processes", detail.live_processes},
              {"processes", processes},
              {"fork", {{"episodes", to_json(detail.episodes)}}}};
  if (detail.scope == GroupBy::kComm) {
    out["fork"]["copied_bytes_total"] = detail.stats.fork_copied_bytes;
  } else {
    out["swap_add_events"] = detail.stats.swap_add_events;
    out["pinned_swap_skip_events"] = detail.stats.pinned_swap_skip_events;
  }
  return out;
}

bool parse_sort_key(const std::string& name, SortKey* out) {
  for (SortKey key : {SortKey::kCopies, SortKey::kCopiedBytes, SortKey::kUnshares, SortKey::kSwapAdds,
                      SortKey::kFaults}) {
    if (name == sort_key_name(key)) {
      *out = key;
      return true;
    }
  }
  return false;
}

bool parse_group_by(const std::string& name, GroupBy* out) {
  for (GroupBy group : {GroupBy::kProcess, GroupBy::kCgroup, GroupBy::kComm}) {
    if (name == group_by_name(group)) {
      *out = group;
      return true;
    }
  }
  return false;
}

}  // namespace cowwatch::model
