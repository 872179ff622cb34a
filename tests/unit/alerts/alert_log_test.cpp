#include "alerts/alert_log.h"

#include <gtest/gtest.h>

namespace cowwatch::alerts {
namespace {

using namespace std::chrono_literals;

Alert sample_alert() {
  Alert a;
  a.rule = "pinned_cow_copy";
  a.kind = RuleKind::kPinnedCowCopy;
  a.severity = Severity::kCritical;
  a.scope = Scope::kProcess;
  a.subject = "pid 123 (redis-server)";
  a.labels = {{"alertname", "pinned_cow_copy"}, {"severity", "critical"}, {"scope", "process"},
              {"subject", "pid 123 (redis-server)"}, {"pid", "123"}, {"team-x", "db"}};
  a.annotations = {{"summary", "COW copy of a maybe-DMA-pinned page in pid 123 (redis-server)"},
                   {"description", "1 copy"}, {"value", "1"}};
  a.value = 1;
  a.threshold = 1;
  a.starts_at = std::chrono::system_clock::time_point{1767225600s + 123ms};
  return a;
}

TEST(AlertLog, Rfc3339) {
  EXPECT_EQ(format_rfc3339(std::chrono::system_clock::time_point{1767225600s + 123ms}),
            "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(format_rfc3339(std::chrono::system_clock::time_point{0s}), "1970-01-01T00:00:00.000Z");
}

TEST(AlertLog, FiringFields) {
  const auto fields = journal_fields({AlertState::kFiring, sample_alert()});
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"MESSAGE", "alert pinned_cow_copy firing for pid 123 (redis-server): COW copy of a "
                  "maybe-DMA-pinned page in pid 123 (redis-server)"},
      {"PRIORITY", "2"},
      {"COWWATCH_ALERT", "pinned_cow_copy"},
      {"COWWATCH_ALERT_STATE", "firing"},
      {"COWWATCH_ALERT_SEVERITY", "critical"},
      {"COWWATCH_ALERT_SCOPE", "process"},
      {"COWWATCH_ALERT_SUBJECT", "pid 123 (redis-server)"},
      {"COWWATCH_ALERT_VALUE", "1"},
      {"COWWATCH_ALERT_THRESHOLD", "1"},
      {"COWWATCH_ALERT_STARTS_AT", "2026-01-01T00:00:00.123Z"},
      {"COWWATCH_ALERT_DESCRIPTION", "1 copy"},
      {"COWWATCH_ALERT_LABEL_ALERTNAME", "pinned_cow_copy"},
      {"COWWATCH_ALERT_LABEL_PID", "123"},
      {"COWWATCH_ALERT_LABEL_SCOPE", "process"},
      {"COWWATCH_ALERT_LABEL_SEVERITY", "critical"},
      {"COWWATCH_ALERT_LABEL_SUBJECT", "pid 123 (redis-server)"},
      {"COWWATCH_ALERT_LABEL_TEAM_X", "db"},
  };
  EXPECT_EQ(fields, expected);
}

TEST(AlertLog, ResolvedHasEndsAtAndNoticePriority) {
  Alert a = sample_alert();
  a.ends_at = a.starts_at + 10min;
  const auto fields = journal_fields({AlertState::kResolved, a});
  auto get = [&](const std::string& key) {
    for (const auto& [k, v] : fields) {
      if (k == key) return v;
    }
    return std::string("<absent>");
  };
  EXPECT_EQ(get("PRIORITY"), "5");
  EXPECT_EQ(get("COWWATCH_ALERT_STATE"), "resolved");
  EXPECT_EQ(get("COWWATCH_ALERT_ENDS_AT"), "2026-01-01T00:10:00.123Z");
  EXPECT_EQ(get("MESSAGE").rfind("alert pinned_cow_copy resolved for pid 123", 0), 0u);
}

}  // namespace
}  // namespace cowwatch::alerts
