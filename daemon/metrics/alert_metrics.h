// Alert metrics as a Prometheus Collectable (see docs/metrics.md, "Alerts"):
//   cowwatch_alerts_total{rule,severity}                    counter: times the rule fired
//   cowwatch_alert_active{rule,severity,scope,subject}      gauge: 1 while firing (absent otherwise)
//   cowwatch_alert_subjects                                 gauge: subjects the engine holds
//   cowwatch_alert_subjects_rejected_total                  counter: new subjects refused (limit)
// The daemon's loop publishes a snapshot after each engine tick; scrapes read the snapshot.
#pragma once

#include <mutex>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "alerts/alert.h"
#include "alerts/alert_engine.h"

namespace cowwatch::exporter {

class AlertMetrics final : public prometheus::Collectable {
 public:
  // Thread-safe; replaces the snapshot.
  void publish(std::vector<alerts::RuleTotal> totals, std::vector<alerts::Alert> active,
               alerts::EngineStats stats = {});
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mutex_;
  std::vector<alerts::RuleTotal> totals_;
  std::vector<alerts::Alert> active_;
  alerts::EngineStats stats_;
};

}  // namespace cowwatch::exporter
