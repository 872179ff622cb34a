#include "metrics/alert_metrics.h"

#include <algorithm>

namespace cowwatch::exporter {

void AlertMetrics::publish(std::vector<alerts::RuleTotal> totals, std::vector<alerts::Alert> active,
                           alerts::EngineStats stats) {
  std::lock_guard lock(mutex_);
  totals_ = std::move(totals);
  active_ = std::move(active);
  stats_ = stats;
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

  prometheus::MetricFamily subjects;
  subjects.name = "cowwatch_alert_subjects";
  subjects.help = "Subjects (processes, cgroups, the host) the alert engine holds state for.";
  subjects.type = prometheus::MetricType::Gauge;
  subjects.metric.emplace_back().gauge.value = static_cast<double>(stats_.subjects);

  prometheus::MetricFamily rejected;
  rejected.name = "cowwatch_alert_subjects_rejected_total";
  rejected.help = "Input for new subjects ignored because the engine held its limit of subjects: they could not alert.";
  rejected.type = prometheus::MetricType::Counter;
  rejected.metric.emplace_back().counter.value = static_cast<double>(stats_.subjects_rejected);
  return {std::move(fired), std::move(active), std::move(subjects), std::move(rejected)};
}

}  // namespace cowwatch::exporter
