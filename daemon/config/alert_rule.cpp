#include "config/alert_rule.h"

#include <array>

namespace cowwatch::alerts {
namespace {

constexpr std::array<const char*, kRuleKindCount> kKindNames = {
    "pinned_cow_copy", "fork_with_pins",   "unshare_storm",
    "pinned_swap_attempt", "extra_ref_copies", "fork_cow_blowup"};
constexpr std::array<const char*, 3> kScopeNames = {"process", "cgroup", "host"};
constexpr std::array<const char*, 3> kSeverityNames = {"critical", "warning", "info"};

template <class Enum, size_t N>
std::optional<Enum> find_name(const std::array<const char*, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

const char* rule_kind_name(RuleKind kind) { return kKindNames.at(static_cast<size_t>(kind)); }
const char* scope_name(Scope scope) { return kScopeNames.at(static_cast<size_t>(scope)); }
const char* severity_name(Severity severity) {
  return kSeverityNames.at(static_cast<size_t>(severity));
}

std::optional<RuleKind> parse_rule_kind(std::string_view name) {
  return find_name<RuleKind>(kKindNames, name);
}
std::optional<Scope> parse_scope(std::string_view name) { return find_name<Scope>(kScopeNames, name); }
std::optional<Severity> parse_severity(std::string_view name) {
  return find_name<Severity>(kSeverityNames, name);
}

const char* threshold_unit(RuleKind kind) {
  switch (kind) {
    case RuleKind::kPinnedCowCopy:
    case RuleKind::kForkWithPins:
    case RuleKind::kPinnedSwapAttempt:
      return "events";
    case RuleKind::kUnshareStorm:
      return "faults/s";
    case RuleKind::kExtraRefCopies:
      return "ratio";
    case RuleKind::kForkCowBlowup:
      return "bytes";
  }
  return "";
}

}  // namespace cowwatch::alerts
