#include "alerts/alert_log.h"

#include <cctype>
#include <charconv>
#include <ctime>

namespace cowwatch::alerts {
namespace {

std::string journal_name(const std::string& label) {
  std::string name;
  for (char c : label) {
    name += std::isalnum(static_cast<unsigned char>(c))
                ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                : '_';
  }
  return name;
}

const char* priority(const AlertTransition& t) {
  if (t.state == AlertState::kResolved) return "5";
  switch (t.alert.severity) {
    case Severity::kCritical: return "2";
    case Severity::kWarning: return "4";
    case Severity::kInfo: return "6";
  }
  return "6";
}

std::string number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

std::string annotation(const Alert& alert, const char* key) {
  auto it = alert.annotations.find(key);
  return it == alert.annotations.end() ? "" : it->second;
}

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const time_t seconds = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int millis = static_cast<int>(ms - static_cast<int64_t>(seconds) * 1000);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), buf, millis);
  return out;
}

std::vector<std::pair<std::string, std::string>> journal_fields(const AlertTransition& t) {
  const Alert& a = t.alert;
  const char* state = alert_state_name(t.state);
  std::vector<std::pair<std::string, std::string>> f;
  f.emplace_back("MESSAGE", std::string("alert ") + a.rule + " " + state + " for " + a.subject +
                                ": " + annotation(a, "summary"));
  f.emplace_back("PRIORITY", priority(t));
  f.emplace_back("COWWATCH_ALERT", a.rule);
  f.emplace_back("COWWATCH_ALERT_STATE", state);
  f.emplace_back("COWWATCH_ALERT_SEVERITY", severity_name(a.severity));
  f.emplace_back("COWWATCH_ALERT_SCOPE", scope_name(a.scope));
  f.emplace_back("COWWATCH_ALERT_SUBJECT", a.subject);
  f.emplace_back("COWWATCH_ALERT_VALUE", number(a.value));
  f.emplace_back("COWWATCH_ALERT_THRESHOLD", number(a.threshold));
  f.emplace_back("COWWATCH_ALERT_STARTS_AT", format_rfc3339(a.starts_at));
  if (a.ends_at) f.emplace_back("COWWATCH_ALERT_ENDS_AT", format_rfc3339(*a.ends_at));
  f.emplace_back("COWWATCH_ALERT_DESCRIPTION", annotation(a, "description"));
  for (const auto& [name, value] : a.labels) {
    f.emplace_back("COWWATCH_ALERT_LABEL_" + journal_name(name), value);
  }
  return f;
}

}  // namespace cowwatch::alerts
