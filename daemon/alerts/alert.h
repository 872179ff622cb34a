// The engine's outputs: alerts, their transitions, and per-rule totals.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "config/alert_rule.h"

namespace cowwatch::alerts {

struct Alert {
  std::string rule;       // rule name (= labels["alertname"])
  RuleKind kind = RuleKind::kPinnedCowCopy;
  Severity severity = Severity::kWarning;
  Scope scope = Scope::kProcess;
  std::string subject;    // Subject::id
  // alertname, severity, scope, subject, the subject's labels and the rule's labels. Fixed
  // when the alert fires (Alertmanager identifies an alert by its label set).
  std::map<std::string, std::string> labels;
  // summary, description, value: refreshed on every evaluation while firing.
  std::map<std::string, std::string> annotations;
  double value = 0;       // the measured value when last evaluated (unit: threshold_unit(kind))
  double threshold = 0;
  std::chrono::system_clock::time_point starts_at{};
  std::optional<std::chrono::system_clock::time_point> ends_at;  // set once resolved
};

enum class AlertState { kFiring, kResolved };
const char* alert_state_name(AlertState state);  // "firing", "resolved"

struct AlertTransition {
  AlertState state = AlertState::kFiring;
  Alert alert;
};

// How often a rule fired since the engine started (a counter: cowwatch_alerts_total).
struct RuleTotal {
  std::string rule;
  Severity severity = Severity::kWarning;
  uint64_t fired = 0;
};

}  // namespace cowwatch::alerts
