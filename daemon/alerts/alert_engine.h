// AlertEngine: evaluates the configured rules on every tick of AlertInput and reports alert
// transitions. Single-threaded: the daemon's loop calls evaluate(); exporters get snapshots
// (active(), totals()).
//
// Per (rule, subject): pending while the condition holds; fires once it has held for `for` (and
// `cooldown` has passed since the last resolve); resolves when the condition has been false for
// one whole `window`. State is bounded: a process absent from a full tick (it exited) is
// forgotten at once, other subjects once not seen for longer than every rule's window + for +
// cooldown, unless a rule has state for them; at most max_subjects are tracked.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alerts/alert.h"
#include "alerts/alert_input.h"
#include "alerts/clock.h"
#include "config/alert_rule.h"
#include "alerts/signals.h"

namespace cowwatch::alerts {

struct EngineOptions {
  // Cgroup and host subjects idle (no counters, events or fork episodes) for longer than this,
  // and longer than any rule's window + for + cooldown, are forgotten unless a rule has state for
  // them. Process subjects go at the first full tick that no longer lists them (they exited).
  std::chrono::nanoseconds subject_idle_ttl = std::chrono::minutes(10);
  size_t max_subjects = 65536;  // beyond this, input for new subjects is ignored (and counted)
  // fork_with_pins counts pinned pages copied at fork when the probe plan observes them
  // (ProbePlan::fork_pinned_copies_seen); otherwise forks of an mm holding long-term pins.
  bool fork_pinned_copies_seen = true;
};

struct EngineStats {
  size_t subjects = 0;            // tracked now
  uint64_t subjects_evicted = 0;  // forgotten after idling
  uint64_t subjects_rejected = 0; // input ignored because max_subjects was reached
};

class AlertEngine {
 public:
  AlertEngine(std::vector<RuleConfig> rules, const Clock& clock, EngineOptions options = {});
  ~AlertEngine();
  AlertEngine(const AlertEngine&) = delete;
  AlertEngine& operator=(const AlertEngine&) = delete;

  // One tick: reads the input, updates every rule and subject, returns what fired or resolved.
  std::vector<AlertTransition> evaluate(const AlertInput& input);

  // Config reload. Rules whose name and definition are unchanged keep their state; alerts of
  // removed or changed rules resolve now (returned). Totals are kept.
  std::vector<AlertTransition> set_rules(std::vector<RuleConfig> rules);

  const std::vector<RuleConfig>& rules() const { return rules_; }
  std::vector<Alert> active() const;    // firing alerts, ordered by rule then subject
  std::vector<RuleTotal> totals() const;  // every configured rule (0 if never fired) and older ones
  EngineStats stats() const;

 private:
  struct RuleState;
  struct SubjectState;
  // (scope, id): a subject is found by a view of its input's id, without building a key string.
  struct SubjectKey {
    Scope scope;
    std::string id;
  };
  struct SubjectKeyView {
    Scope scope;
    std::string_view id;
  };
  struct SubjectKeyHash {
    using is_transparent = void;
    size_t operator()(const SubjectKeyView& k) const { return subject_hash(k.scope, k.id); }
    size_t operator()(const SubjectKey& k) const { return subject_hash(k.scope, k.id); }
  };
  struct SubjectKeyEqual {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.scope == b.scope && std::string_view(a.id) == std::string_view(b.id);
    }
  };

  SubjectState* touch(const SubjectView& subject);
  static bool busy(const SubjectState& state);  // any rule has state for it
  void keep_labels(SubjectState& state);
  void take_counters(SubjectState& state, const cw_counters& counters);
  void evaluate_rule(size_t rule_index, SubjectState& subject,
                     std::vector<AlertTransition>& out);
  // full_tick: the input listed every tracked subject (not an anomaly-only tick).
  void evict_idle(bool full_tick);
  std::chrono::nanoseconds idle_ttl() const;

  std::vector<RuleConfig> rules_;
  const Clock& clock_;
  EngineOptions options_;
  std::unordered_map<SubjectKey, std::unique_ptr<SubjectState>, SubjectKeyHash, SubjectKeyEqual> subjects_;
  // (rule name, severity) -> fired count; never shrinks, so counters stay monotonic.
  std::vector<RuleTotal> totals_;
  EngineStats stats_;
  std::chrono::steady_clock::time_point now_{};
  std::chrono::system_clock::time_point wall_now_{};
};

}  // namespace cowwatch::alerts
