#include "metrics/alert_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

namespace cowwatch::exporter {
namespace {

std::string exposition(const AlertMetrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.Collect());
}

alerts::Alert active_alert(const std::string& rule, alerts::Severity severity, alerts::Scope scope,
                           const std::string& subject) {
  alerts::Alert a;
  a.rule = rule;
  a.severity = severity;
  a.scope = scope;
  a.subject = subject;
  return a;
}

TEST(AlertMetrics, EmptyBeforeFirstPublish) {
  AlertMetrics metrics;
  EXPECT_EQ(exposition(metrics),
            "# HELP cowwatch_alerts_total Times an alert rule fired, by rule and severity.\n"
            "# TYPE cowwatch_alerts_total counter\n"
            "# HELP cowwatch_alert_active 1 while an alert is firing, by rule, severity, scope and subject.\n"
            "# TYPE cowwatch_alert_active gauge\n"
            "# HELP cowwatch_alert_subjects Subjects (processes, cgroups, the host) the alert engine holds state for.\n"
            "# TYPE cowwatch_alert_subjects gauge\n"
            "cowwatch_alert_subjects 0\n"
            "# HELP cowwatch_alert_subjects_rejected_total Input for new subjects ignored because the engine held its "
            "limit of subjects: they could not alert.\n"
            "# TYPE cowwatch_alert_subjects_rejected_total counter\n"
            "cowwatch_alert_subjects_rejected_total 0\n");
}

TEST(AlertMetrics, Exposition) {
  AlertMetrics metrics;
  metrics.publish({{"pinned_cow_copy", alerts::Severity::kCritical, 2},
                   {"unshare_storm", alerts::Severity::kWarning, 0}},
                  {active_alert("pinned_cow_copy", alerts::Severity::kCritical,
                                alerts::Scope::kProcess, "pid 123 (redis \"server\")")},
                  {40, 7, 3});
  EXPECT_EQ(exposition(metrics),
            "# HELP cowwatch_alerts_total Times an alert rule fired, by rule and severity.\n"
            "# TYPE cowwatch_alerts_total counter\n"
            "cowwatch_alerts_total{rule=\"pinned_cow_copy\",severity=\"critical\"} 2\n"
            "cowwatch_alerts_total{rule=\"unshare_storm\",severity=\"warning\"} 0\n"
            "# HELP cowwatch_alert_active 1 while an alert is firing, by rule, severity, scope and subject.\n"
            "# TYPE cowwatch_alert_active gauge\n"
            "cowwatch_alert_active{rule=\"pinned_cow_copy\",severity=\"critical\",scope=\"process\","
            "subject=\"pid 123 (redis \\\"server\\\")\"} 1\n"
            "# HELP cowwatch_alert_subjects Subjects (processes, cgroups, the host) the alert engine holds state for.\n"
            "# TYPE cowwatch_alert_subjects gauge\n"
            "cowwatch_alert_subjects 40\n"
            "# HELP cowwatch_alert_subjects_rejected_total Input for new subjects ignored because the engine held its "
            "limit of subjects: they could not alert.\n"
            "# TYPE cowwatch_alert_subjects_rejected_total counter\n"
            "cowwatch_alert_subjects_rejected_total 3\n");

  // A resolved alert disappears from the gauge; the counter stays.
  metrics.publish({{"pinned_cow_copy", alerts::Severity::kCritical, 2},
                   {"unshare_storm", alerts::Severity::kWarning, 0}},
                  {});
  const std::string text = exposition(metrics);
  EXPECT_EQ(text.find("cowwatch_alert_active{"), std::string::npos);
  EXPECT_NE(text.find("cowwatch_alerts_total{rule=\"pinned_cow_copy\",severity=\"critical\"} 2\n"),
            std::string::npos);
}

}  // namespace
}  // namespace cowwatch::exporter
