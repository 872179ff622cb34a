// An alert rule as configured (alerts.rules[] in cowwatch.yaml). Data only: part of the
// configuration schema, so config/ parses it without knowing the alert engine; the engine
// (alerts/alert_engine.h) includes it and evaluates it. The namespace is the rules' vocabulary.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cowwatch::alerts {

enum class RuleKind {
  kPinnedCowCopy,      // COW copies of maybe-DMA-pinned pages, count in window
  kForkWithPins,       // forks of an mm holding long-term pins now (not the sticky flag), count
  kUnshareStorm,       // unshare faults per second over the window
  kPinnedSwapAttempt,  // reclaim met / swapped pinned folios, count in window
  kExtraRefCopies,     // share of copies with reason extra_ref (needs min_copies in window)
  kForkCowBlowup,      // bytes a fork copies (copied + projection, bounded by anon RSS)
};
inline constexpr int kRuleKindCount = 6;

enum class Scope { kProcess, kCgroup, kHost };
enum class Severity { kCritical, kWarning, kInfo };

const char* rule_kind_name(RuleKind kind);  // "pinned_cow_copy", ...
const char* scope_name(Scope scope);        // "process", "cgroup", "host"
const char* severity_name(Severity severity);  // "critical", "warning", "info"
std::optional<RuleKind> parse_rule_kind(std::string_view name);
std::optional<Scope> parse_scope(std::string_view name);
std::optional<Severity> parse_severity(std::string_view name);

// What `threshold` measures for a kind, for messages and docs: "events", "faults/s", "ratio", "bytes".
const char* threshold_unit(RuleKind kind);

struct RuleConfig {
  std::string name;                 // unique; becomes the alertname label
  RuleKind kind = RuleKind::kPinnedCowCopy;
  Scope scope = Scope::kProcess;
  double threshold = 0;             // unit per kind: threshold_unit()
  std::chrono::nanoseconds window{};        // counting window; also the resolve hysteresis
  std::chrono::nanoseconds for_duration{};  // condition must hold this long before firing
  std::chrono::nanoseconds cooldown{};      // after resolving, no re-fire for this long
  Severity severity = Severity::kWarning;
  uint64_t min_copies = 0;          // extra_ref_copies only: copies needed in the window
  std::map<std::string, std::string> labels;  // added to every alert of this rule

  bool operator==(const RuleConfig&) const = default;
};

}  // namespace cowwatch::alerts
