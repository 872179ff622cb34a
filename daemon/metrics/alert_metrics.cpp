#include "metrics/alert_metrics.h"

#include <algorithm>

namespace cowwatch::exporter {

void AlertMetrics::publish(std::vector<alerts::RuleTotal> totals, std::vector<alerts::Alert> active) {
  std::lock_guard lock(mutex_);
  totals_ = std::move(totals);
  active_ = std::move(active);
}

std::vector<prometheus::MetricFamily> AlertMetrics::Collect() const {
  std::lock_guard lock(mutex_);
  prometheus::MetricFamily fired;
  fired.name = "cowwatch_alerts_total";
  fired.help = "Times an alert rule fired, by rule and severity.";
  fired.type = prometheus::MetricType::Counter;
  for (const auto& total : totals_) {
    prometheus::ClientMetric m;
    m.label = {{"rule", total.rule}, {"severity", alerts::severity_name(total.severity)}};
    m.counter.value = static_cast<double>(total.fired);
    fired.metric.push_back(std::move(m));
  }

  prometheus::MetricFamily active;
  active.name = "cowwatch_alert_active";
  active.help = "1 while an alert is firing, by rule, severity, scope and subject.";
  active.type = prometheus::MetricType::Gauge;
  for (const auto& alert : active_) {
    prometheus::ClientMetric m;
    m.label = {{"rule", alert.rule},
               {"severity", alerts::severity_name(alert.severity)},
               {"scope", alerts::scope_name(alert.scope)},
               {"subject", alert.subject}};
    m.gauge.value = 1;
    active.metric.push_back(std::move(m));
  }
  return {std::move(fired), std::move(active)};
}

}  // namespace cowwatch::exporter
