// Alerts as structured journal entries: the daemon passes these key=value fields to
// sd_journal_send (library code never logs itself).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "alerts/alert.h"

namespace cowwatch::alerts {

// RFC 3339 UTC with milliseconds: "2026-11-05T10:20:30.123Z".
std::string format_rfc3339(std::chrono::system_clock::time_point t);

// MESSAGE, PRIORITY (syslog: critical 2, warning 4, info 6; a resolve is 5, notice),
// COWWATCH_ALERT, COWWATCH_ALERT_STATE, COWWATCH_ALERT_SEVERITY, COWWATCH_ALERT_SCOPE,
// COWWATCH_ALERT_SUBJECT, COWWATCH_ALERT_VALUE, COWWATCH_ALERT_THRESHOLD, COWWATCH_ALERT_STARTS_AT,
// COWWATCH_ALERT_ENDS_AT (resolved only), COWWATCH_ALERT_DESCRIPTION, and one
// COWWATCH_ALERT_LABEL_<NAME> per label (name upper-cased; journal field names allow only
// A-Z, 0-9 and _).
std::vector<std::pair<std::string, std::string>> journal_fields(const AlertTransition& transition);

}  // namespace cowwatch::alerts
