// A QueryBackend with canned answers, recording what it was asked, and able to push events and
// samples to subscribers the way the daemon's ingest thread does.
#pragma once

#include <algorithm>
#include <mutex>
#include <vector>

#include "control/control_backend.h"

namespace cowwatch::control::testing {

class FakeBackend : public QueryBackend {
 public:
  FakeBackend() {
    plan_.kernel_release = "6.1.0-test";
    for (int i = 0; i < CW_HOOK_COUNT; ++i) {
      plan_.hooks[i].hook = static_cast<cw_hook>(i);
      plan_.hooks[i].strategy = probe::Strategy::kTracepoint;
      plan_.hooks[i].target = "t" + std::to_string(i);
      plan_.hooks[i].ladder.push_back({probe::Strategy::kFentry, "f", false, "no BTF FUNC"});
      plan_.hooks[i].ladder.push_back({probe::Strategy::kTracepoint, "t", true, "ok"});
    }
  }

  nlohmann::json status() override { return {{"version", "0.1.0"}, {"uptime_s", 12}}; }
  probe::ProbePlan plan() override { return plan_; }
  nlohmann::json top(const TopParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_top = p;
    return {{"sort", top_sort_name(p.sort)},
            {"by", top_group_name(p.by)},
            {"rows", nlohmann::json::array({{{"pid", 42}, {"copies", 7}}})}};
  }
  nlohmann::json query(const QueryParams& p) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_query = p;
    if (p.scope == QueryScope::kPid && p.pid == 404) return nullptr;
    return {{"scope", query_scope_name(p.scope)}, {"copies", 3}};
  }
  nlohmann::json alerts(bool all) override {
    return {{"active", nlohmann::json::array()}, {"all", all}};
  }

  void subscribe(StreamListener* l) override {
    std::lock_guard<std::mutex> lock(mu_);
    listeners_.push_back(l);
  }
  void unsubscribe(StreamListener* l) override {
    std::lock_guard<std::mutex> lock(mu_);
    listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), l), listeners_.end());
  }

  size_t subscribers() {
    std::lock_guard<std::mutex> lock(mu_);
    return listeners_.size();
  }
  void emit(const cw_event& e) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto* l : listeners_) l->on_event(e);
  }
  void emit_exit(const cw_proc_key& key, const cw_counters& c) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto* l : listeners_) l->on_exit_flush(key, c);
  }
  void emit(const ingest::KernelSample& s) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto* l : listeners_) l->on_sample(s);
  }

  TopParams last_top;
  QueryParams last_query;

 private:
  std::mutex mu_;
  probe::ProbePlan plan_;
  std::vector<StreamListener*> listeners_;
};

}  // namespace cowwatch::control::testing
