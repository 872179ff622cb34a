// The daemon's model pipeline in-process, for `cowwatch replay` and `cowwatch run`: the real
// Aggregator, the alert engine with the configured rules, and the daemon's QueryBackend
// (app::ModelBackend) on top, fed with events, exit flushes and counter samples in the order the
// daemon would see them. Time for the alert rules follows the data (sample mono_ns), so a replay
// evaluates alerts exactly as the recording host would have, however fast it runs.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "alerts/alert_engine.h"
#include "alerts/clock.h"
#include "app/alert_feed.h"
#include "app/model_backend.h"
#include "control/control_backend.h"
#include "model/aggregator.h"
#include "probe/plan.h"

namespace cowwatch::cli {

// A clock set by the data: steady time is the kernel's CLOCK_MONOTONIC of the latest sample;
// wall time is `wall_at_first` plus the time since the first sample.
class DataClock final : public alerts::Clock {
 public:
  explicit DataClock(std::chrono::system_clock::time_point wall_at_first) : wall_base_(wall_at_first) {}
  void advance_to(uint64_t mono_ns);
  std::chrono::steady_clock::time_point now() const override;
  std::chrono::system_clock::time_point wall_now() const override;
  double elapsed_s() const;

 private:
  std::chrono::system_clock::time_point wall_base_;
  uint64_t first_ns_ = 0;
  uint64_t now_ns_ = 0;
};

struct LocalSessionOptions {
  std::string source = "replay";              // shown by status: "replay" or "run"
  model::AggregatorOptions aggregator;        // replay: proc/cgroup roots that do not exist
  std::chrono::system_clock::time_point wall_at_first = std::chrono::system_clock::now();
  std::vector<alerts::RuleConfig> rules;      // usually config::default_config().alerts.rules
};

class LocalSession {
 public:
  LocalSession(LocalSessionOptions options, probe::ProbePlan plan);

  void on_event(const cw_event& event);
  void on_exit_flush(const cw_proc_key& key, const cw_counters& final_counters);
  void on_cgroup_move(const cw_event& event, const cw_counters& counters_at_move);
  void on_sample(const ingest::KernelSample& sample);
  void add_lost(uint64_t lost) { lost_ += lost; }

  // status() reports the data instead of a daemon process: no pid, uptime = the data's span.
  control::QueryBackend& backend() { return backend_; }
  const model::Aggregator& aggregator() const { return *aggregator_; }
  const std::vector<cw_event>& anomalies() const { return anomalies_; }  // first 1000
  uint64_t samples() const { return samples_; }
  std::vector<alerts::RuleTotal> alert_totals() const { return engine_.totals(); }

 private:
  class Backend final : public control::QueryBackend {
   public:
    explicit Backend(LocalSession& s) : s_(s) {}
    nlohmann::json status() override;
    probe::ProbePlan plan() override { return s_.model_backend_.plan(); }
    nlohmann::json top(const control::TopParams& p) override { return s_.model_backend_.top(p); }
    nlohmann::json query(const control::QueryParams& p) override { return s_.model_backend_.query(p); }
    nlohmann::json alerts(bool all) override { return s_.model_backend_.alerts(all); }
    void subscribe(control::StreamListener*) override {}
    void unsubscribe(control::StreamListener*) override {}

   private:
    LocalSession& s_;
  };

  void evaluate_alerts();

  LocalSessionOptions options_;
  std::shared_ptr<model::Aggregator> aggregator_;
  DataClock clock_;
  alerts::AlertEngine engine_;
  app::AlertFeed feed_;
  app::ModelBackend model_backend_;
  Backend backend_{*this};
  std::vector<cw_event> anomalies_;
  uint64_t samples_ = 0;
  uint64_t lost_ = 0;
};

}  // namespace cowwatch::cli
