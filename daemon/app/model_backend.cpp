#include "app/model_backend.h"

#include <unistd.h>

#include <algorithm>

#include "alerts/alert_log.h"
#include "cowwatch_version.h"
#include "model/json_views.h"

namespace cowwatch::app {
namespace {

constexpr size_t kRecentAlerts = 200;

const char* drop_name(int cause) {
  switch (cause) {
    case CW_DROP_RING_FULL: return "ring_full";
    case CW_DROP_CTL_RING_FULL: return "ctl_ring_full";
    case CW_DROP_PROC_MAP_FULL: return "proc_map_full";
    case CW_DROP_STASH_MISS: return "stash_miss";
  }
  return "unknown";
}

const char* event_name(int type) {
  switch (type) {
    case CW_EV_FAULT: return "fault";
    case CW_EV_FORK: return "fork";
    case CW_EV_EXIT: return "exit";
    case CW_EV_SWAP_ADD: return "swap_add";
    case CW_EV_PINNED_SWAP_SKIP: return "pinned_swap_skip";
    case CW_EV_EXEC: return "exec";
    case CW_EV_RENAME: return "rename";
    case CW_EV_CGROUP_MOVE: return "cgroup_move";
  }
  return "unknown";
}

model::SortKey sort_key(control::TopSort s) {
  switch (s) {
    case control::TopSort::kCopies: return model::SortKey::kCopies;
    case control::TopSort::kCopiedBytes: return model::SortKey::kCopiedBytes;
    case control::TopSort::kUnshares: return model::SortKey::kUnshares;
    case control::TopSort::kSwapAdds: return model::SortKey::kSwapAdds;
    case control::TopSort::kFaults: return model::SortKey::kFaults;
  }
  return model::SortKey::kCopies;
}

model::GroupBy group_by(control::TopGroup g) {
  switch (g) {
    case control::TopGroup::kProcess: return model::GroupBy::kProcess;
    case control::TopGroup::kCgroup: return model::GroupBy::kCgroup;
    case control::TopGroup::kComm: return model::GroupBy::kComm;
  }
  return model::GroupBy::kProcess;
}

}  // namespace

nlohmann::json alert_to_json(const alerts::Alert& alert) {
  nlohmann::json j;
  j["rule"] = alert.rule;
  j["severity"] = alerts::severity_name(alert.severity);
  j["scope"] = alerts::scope_name(alert.scope);
  j["subject"] = alert.subject;
  j["labels"] = alert.labels;
  j["annotations"] = alert.annotations;
  j["value"] = alert.value;
  j["threshold"] = alert.threshold;
  j["starts_at"] = alerts::format_rfc3339(alert.starts_at);
  j["ends_at"] = alert.ends_at ? nlohmann::json(alerts::format_rfc3339(*alert.ends_at)) : nlohmann::json();
  return j;
}

ModelBackend::ModelBackend(std::shared_ptr<const model::Aggregator> aggregator, probe::ProbePlan plan)
    : aggregator_(std::move(aggregator)), plan_(std::move(plan)) {}

void ModelBackend::publish_alerts(std::vector<alerts::Alert> active,
                                  const std::vector<alerts::AlertTransition>& transitions) {
  std::lock_guard<std::mutex> lock(mutex_);
  active_ = std::move(active);
  for (const auto& t : transitions) {
    recent_.push_back(t);
    if (recent_.size() > kRecentAlerts) recent_.pop_front();
  }
}

void ModelBackend::publish_sample_stats(const ingest::KernelSample& sample) {
  std::lock_guard<std::mutex> lock(mutex_);
  drops_ = sample.drops;
  recursion_misses_ = 0;
  for (const auto& p : sample.programs) recursion_misses_ += p.recursion_misses;
}

void ModelBackend::dispatch_event(const cw_event& event) {
  std::lock_guard<std::mutex> lock(listeners_mutex_);
  for (auto* l : listeners_) l->on_event(event);
}

void ModelBackend::dispatch_sample(const ingest::KernelSample& sample) {
  std::lock_guard<std::mutex> lock(listeners_mutex_);
  for (auto* l : listeners_) l->on_sample(sample);
}

void ModelBackend::dispatch_exit_flush(const cw_proc_key& key, const cw_counters& final_counters) {
  std::lock_guard<std::mutex> lock(listeners_mutex_);
  for (auto* l : listeners_) l->on_exit_flush(key, final_counters);
}

nlohmann::json ModelBackend::status() {
  nlohmann::json j;
  j["version"] = COWWATCH_VERSION;
  j["revision"] = COWWATCH_REVISION;
  j["pid"] = getpid();
  j["uptime_s"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  auto received = aggregator_->events_received();
  nlohmann::json events = nlohmann::json::object();
  for (int t = 0; t < CW_EV_TYPE_COUNT; t++) events[event_name(t)] = received[t];
  j["events"] = events;
  nlohmann::json drops = nlohmann::json::object();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int c = 0; c < CW_DROP_COUNT; c++) drops[drop_name(c)] = drops_[c];
    drops["bpf_recursion"] = recursion_misses_;
  }
  j["drops"] = drops;
  j["processes"] = aggregator_->tracked_processes();
  return j;
}

probe::ProbePlan ModelBackend::plan() { return plan_; }

nlohmann::json ModelBackend::top(const control::TopParams& params) {
  model::TopQuery q;
  q.sort = sort_key(params.sort);
  q.group = group_by(params.by);
  q.limit = params.limit;
  return model::to_json(aggregator_->top(q));
}

nlohmann::json ModelBackend::query(const control::QueryParams& params) {
  // The scope's JSON view, and the alert label that names the same scope.
  nlohmann::json j;
  std::string label, value;
  switch (params.scope) {
    case control::QueryScope::kPid:
      if (auto d = aggregator_->query_pid(params.pid)) j = model::to_json(*d);
      label = "pid", value = std::to_string(params.pid);
      break;
    case control::QueryScope::kComm:
      if (auto d = aggregator_->query_comm(params.name)) j = model::to_json(*d);
      label = "comm", value = params.name;
      break;
    case control::QueryScope::kCgroup:
      if (auto d = aggregator_->query_cgroup(params.name)) j = model::to_json(*d);
      label = "cgroup", value = params.name;
      break;
  }
  if (j.is_null()) return nullptr;
  nlohmann::json related = nlohmann::json::array();
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& a : active_) {
    auto it = a.labels.find(label);
    if (it != a.labels.end() && it->second == value) related.push_back(alert_to_json(a));
  }
  j["alerts"] = related;
  return j;
}

nlohmann::json ModelBackend::alerts(bool include_recent) {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json j;
  j["active"] = nlohmann::json::array();
  for (const auto& a : active_) j["active"].push_back(alert_to_json(a));
  if (include_recent) {
    j["recent"] = nlohmann::json::array();
    for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
      nlohmann::json t = alert_to_json(it->alert);
      t["state"] = alerts::alert_state_name(it->state);
      j["recent"].push_back(t);
    }
  }
  return j;
}

void ModelBackend::subscribe(control::StreamListener* listener) {
  std::lock_guard<std::mutex> lock(listeners_mutex_);
  listeners_.push_back(listener);
}

void ModelBackend::unsubscribe(control::StreamListener* listener) {
  std::lock_guard<std::mutex> lock(listeners_mutex_);
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

}  // namespace cowwatch::app
