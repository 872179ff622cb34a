// The control socket's view of the running daemon: answers status/top/query/alerts from the
// aggregator and the alert engine's published state, and fans events and samples out to
// streaming clients (trace, record). Called from the control socket thread; fed by the loop.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "alerts/alert.h"
#include "control/control_backend.h"
#include "ingest/kernel_sample.h"
#include "model/aggregator.h"
#include "probe/plan.h"

namespace cowwatch::app {

class ModelBackend final : public control::QueryBackend {
 public:
  ModelBackend(std::shared_ptr<const model::Aggregator> aggregator, probe::ProbePlan plan);

  // Loop thread: what the last tick produced.
  void publish_alerts(std::vector<alerts::Alert> active,
                      const std::vector<alerts::AlertTransition>& transitions);
  void publish_sample_stats(const ingest::KernelSample& sample);
  void dispatch_event(const cw_event& event);
  void dispatch_sample(const ingest::KernelSample& sample);
  void dispatch_exit_flush(const cw_proc_key& key, const cw_counters& final_counters);

  nlohmann::json status() override;
  probe::ProbePlan plan() override;
  nlohmann::json top(const control::TopParams& params) override;
  nlohmann::json query(const control::QueryParams& params) override;
  nlohmann::json alerts(bool include_recent) override;
  void subscribe(control::StreamListener* listener) override;
  void unsubscribe(control::StreamListener* listener) override;

 private:
  std::shared_ptr<const model::Aggregator> aggregator_;
  const probe::ProbePlan plan_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  mutable std::mutex mutex_;
  std::vector<alerts::Alert> active_;
  std::deque<alerts::AlertTransition> recent_;  // newest last, bounded
  std::array<uint64_t, CW_DROP_COUNT> drops_{};
  uint64_t recursion_misses_ = 0;

  mutable std::mutex listeners_mutex_;
  std::vector<control::StreamListener*> listeners_;
};

nlohmann::json alert_to_json(const alerts::Alert& alert);

}  // namespace cowwatch::app
