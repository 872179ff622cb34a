#include "alerts/alert_engine.h"

#include <algorithm>
#include <deque>
#include <tuple>

#include "alerts/annotations.h"
#include "alerts/sliding_window.h"

namespace cowwatch::alerts {
namespace {

using TimePoint = std::chrono::steady_clock::time_point;

// The signal a count/rate rule adds up (extra_ref_copies and fork_cow_blowup are special).
Signal counted_signal(RuleKind kind, const EngineOptions& options) {
  switch (kind) {
    case RuleKind::kPinnedCowCopy: return Signal::kPinnedCopies;
    case RuleKind::kForkWithPins:
      return options.fork_pinned_copies_seen ? Signal::kForkPinnedCopies : Signal::kLongtermPinForks;
    case RuleKind::kUnshareStorm: return Signal::kGupUnshares;
    case RuleKind::kPinnedSwapAttempt: return Signal::kPinnedSwap;
    case RuleKind::kExtraRefCopies: return Signal::kExtraRefCopies;
    case RuleKind::kForkCowBlowup: break;
  }
  return Signal::kCount;
}

// The most a fork episode is expected to copy: what it copied, or the projection when larger,
// the projection bounded by the parent's anon RSS at fork.
double fork_estimate(const ForkEpisode& e) {
  double projected = static_cast<double>(e.projected_bytes);
  if (e.rss_bound_bytes > 0) projected = std::min(projected, static_cast<double>(e.rss_bound_bytes));
  return std::max(static_cast<double>(e.copied_bytes), projected);
}

size_t at(Signal s) { return static_cast<size_t>(s); }

}  // namespace

const char* alert_state_name(AlertState state) {
  return state == AlertState::kFiring ? "firing" : "resolved";
}

struct AlertEngine::RuleState {
  explicit RuleState(std::chrono::nanoseconds window) : window(window) {}
  SlidingWindow window;
  bool firing = false;
  std::optional<TimePoint> true_since;   // condition holding since (pending or firing)
  std::optional<TimePoint> false_since;  // while firing: condition false since
  std::optional<TimePoint> resolved_at;  // last resolve, for the cooldown
  Alert alert;                           // while firing
};

struct AlertEngine::SubjectState {
  // Scope and id always; labels only while a rule has state for this subject (pending, firing,
  // cooling, a non-empty window): an alert can start in a tick the subject is absent from. Idle
  // subjects (nearly every process) keep none, which is most of the engine's memory at 10,000.
  Subject subject;
  const SubjectView* input = nullptr;  // as this tick's input lists it (valid during evaluate)
  std::optional<SignalValues> last_counters;  // previous absolute sample
  SignalValues credit{};   // events already counted, not yet seen in counters
  SignalValues tick{};     // increments in this tick
  std::vector<ForkEpisode> episodes;  // this tick
  TimePoint last_seen{};
  std::vector<std::unique_ptr<RuleState>> rules;  // by rule index; null = nothing going on
};

AlertEngine::AlertEngine(std::vector<RuleConfig> rules, const Clock& clock, EngineOptions options)
    : clock_(clock), options_(options) {
  set_rules(std::move(rules));
}

AlertEngine::~AlertEngine() = default;

std::chrono::nanoseconds AlertEngine::idle_ttl() const {
  std::chrono::nanoseconds ttl = options_.subject_idle_ttl;
  for (const auto& rule : rules_) {
    ttl = std::max(ttl, 2 * rule.window + rule.for_duration + rule.cooldown);
  }
  return ttl;
}

AlertEngine::SubjectState* AlertEngine::touch(const SubjectView& subject) {
  auto it = subjects_.find(SubjectKeyView{subject.scope, subject.id});
  if (it == subjects_.end()) {
    if (subjects_.size() >= options_.max_subjects) evict_idle(false);
    if (subjects_.size() >= options_.max_subjects) {
      ++stats_.subjects_rejected;
      return nullptr;
    }
    auto state = std::make_unique<SubjectState>();
    state->subject.scope = subject.scope;
    state->subject.id = std::string(subject.id);
    state->rules.resize(rules_.size());
    it = subjects_.emplace(SubjectKey{subject.scope, std::string(subject.id)}, std::move(state)).first;
  }
  SubjectState& state = *it->second;
  state.input = &subject;
  state.last_seen = now_;
  return &state;
}

// Counters are exact, events are early: an event counts at once and leaves a credit that the
// next counter deltas pay off first, so a copy reported by both is counted once.
void AlertEngine::take_counters(SubjectState& state, const cw_counters& counters) {
  const SignalValues current = signals_from_counters(counters);
  if (!state.last_counters) {
    state.last_counters = current;  // baseline: it already includes any event seen so far
    state.credit = {};
    return;
  }
  SignalValues& last = *state.last_counters;
  for (size_t s = 0; s < kSignalCount; ++s) {
    if (current[s] < last[s]) {  // recreated under the same id: a new baseline
      last[s] = current[s];
      state.credit[s] = 0;
      continue;
    }
    uint64_t delta = current[s] - last[s];
    last[s] = current[s];
    const uint64_t paid = std::min(delta, state.credit[s]);
    state.credit[s] -= paid;
    state.tick[s] += delta - paid;
  }
}

std::vector<AlertTransition> AlertEngine::evaluate(const AlertInput& input) {
  now_ = clock_.now();
  wall_now_ = clock_.wall_now();
  for (auto& [key, state] : subjects_) {
    state->tick = {};
    state->episodes.clear();
    state->input = nullptr;
  }
  // Anomalies and fork episodes name their subjects in full (they are few): views of those, alive
  // (a deque does not move them) until this call returns.
  std::deque<SubjectView> named;
  // Events first: counters read in the same tick may already include them (credit pays off).
  for (const AnomalyEvent& anomaly : input.anomalies) {
    const auto hit = signal_from_event(anomaly.event);
    for (const Subject& subject : anomaly.subjects) {
      SubjectState* state = touch(named.emplace_back(subject));
      if (!state || !hit) continue;
      state->tick[at(hit->signal)] += hit->amount;
      state->credit[at(hit->signal)] += hit->amount;
    }
  }
  for (const SubjectCounters& sample : input.subjects) {
    if (SubjectState* state = touch(sample.subject)) take_counters(*state, sample.counters);
  }
  for (const ForkEpisode& episode : input.forks) {
    if (SubjectState* state = touch(named.emplace_back(episode.parent))) state->episodes.push_back(episode);
  }

  std::vector<AlertTransition> out;
  for (auto& [key, state] : subjects_) {  // one pass over subjects (cache), every rule
    for (size_t r = 0; r < rules_.size(); ++r) {
      if (state->subject.scope == rules_[r].scope) evaluate_rule(r, *state, out);
    }
    keep_labels(*state);
    state->input = nullptr;  // the input dies with this call
  }
  evict_idle(!input.subjects.empty());
  std::sort(out.begin(), out.end(), [](const AlertTransition& a, const AlertTransition& b) {
    return std::tie(a.alert.rule, a.alert.subject) < std::tie(b.alert.rule, b.alert.subject);
  });
  return out;
}

bool AlertEngine::busy(const SubjectState& state) {
  return std::any_of(state.rules.begin(), state.rules.end(), [](const auto& r) { return r != nullptr; });
}

void AlertEngine::keep_labels(SubjectState& state) {
  if (!busy(state)) {
    std::map<std::string, std::string>().swap(state.subject.labels);
  } else if (state.input && !state.input->has_labels(state.subject.labels)) {
    state.subject.labels = state.input->labels();
  }
}

void AlertEngine::evaluate_rule(size_t rule_index, SubjectState& subject,
                                std::vector<AlertTransition>& out) {
  const RuleConfig& rule = rules_[rule_index];
  std::unique_ptr<RuleState>& slot = subject.rules[rule_index];

  // Measure. A subject with no increment, no episode and no state has nothing to evaluate:
  // every threshold is > 0, so its condition is false.
  Measurement m;
  const bool blowup = rule.kind == RuleKind::kForkCowBlowup;
  const Signal signal = counted_signal(rule.kind, options_);
  m.approximate = rule.kind == RuleKind::kForkWithPins && !options_.fork_pinned_copies_seen;
  const double increment = blowup ? 0 : static_cast<double>(subject.tick[at(signal)]);
  const double copies = static_cast<double>(subject.tick[at(Signal::kCopies)]);
  const bool has_input = blowup ? !subject.episodes.empty()
                                : increment > 0 || (rule.kind == RuleKind::kExtraRefCopies && copies > 0);
  if (!slot && !has_input) return;
  if (!slot) slot = std::make_unique<RuleState>(rule.window);
  RuleState& state = *slot;

  bool condition = false;
  if (blowup) {
    for (const ForkEpisode& episode : subject.episodes) {
      const double estimate = fork_estimate(episode);
      if (estimate >= m.value) {
        m.value = estimate;
        m.episode = episode;
      }
    }
    condition = m.value >= rule.threshold;
  } else {
    state.window.add(now_, increment, rule.kind == RuleKind::kExtraRefCopies ? copies : 0);
    const SlidingWindow::Sum sum = state.window.sum(now_);
    m.window_count = sum.value;
    m.window_total = sum.aux;
    switch (rule.kind) {
      case RuleKind::kUnshareStorm:
        m.value = sum.value / std::chrono::duration<double>(rule.window).count();
        condition = m.value >= rule.threshold;
        break;
      case RuleKind::kExtraRefCopies:
        m.value = sum.aux > 0 ? sum.value / sum.aux : 0;
        condition = sum.aux >= static_cast<double>(rule.min_copies) && m.value >= rule.threshold;
        break;
      default:
        m.value = sum.value;
        condition = m.value >= rule.threshold;
        break;
    }
  }

  if (!state.firing) {
    if (!condition) {
      state.true_since.reset();
    } else {
      if (!state.true_since) state.true_since = now_;
      const bool held = now_ - *state.true_since >= rule.for_duration;
      const bool cooled = !state.resolved_at || now_ - *state.resolved_at >= rule.cooldown;
      if (held && cooled) {
        state.firing = true;
        state.false_since.reset();
        Alert& alert = state.alert;
        alert = Alert{};
        alert.rule = rule.name;
        alert.kind = rule.kind;
        alert.severity = rule.severity;
        alert.scope = rule.scope;
        alert.subject = subject.subject.id;
        alert.threshold = rule.threshold;
        alert.labels = subject.input ? subject.input->labels() : subject.subject.labels;
        for (const auto& [name, value] : rule.labels) alert.labels[name] = value;
        alert.labels["alertname"] = rule.name;
        alert.labels["severity"] = severity_name(rule.severity);
        alert.labels["scope"] = scope_name(rule.scope);
        alert.labels["subject"] = subject.subject.id;
        alert.value = m.value;
        alert.annotations = describe(rule, subject.subject.id, m);
        alert.starts_at = wall_now_;
        auto total = std::find_if(totals_.begin(), totals_.end(), [&](const RuleTotal& t) {
          return t.rule == rule.name && t.severity == rule.severity;
        });
        if (total != totals_.end()) ++total->fired;
        out.push_back({AlertState::kFiring, alert});
      }
    }
  } else if (condition) {
    state.false_since.reset();
    state.alert.value = m.value;
    state.alert.annotations = describe(rule, subject.subject.id, m);
  } else {
    if (!state.false_since) state.false_since = now_;
    if (now_ - *state.false_since >= rule.window) {
      state.firing = false;
      state.true_since.reset();
      state.false_since.reset();
      state.resolved_at = now_;
      state.alert.ends_at = wall_now_;
      out.push_back({AlertState::kResolved, state.alert});
      state.alert = Alert{};
    }
  }

  // Nothing left to remember: free the state (a later increment starts afresh).
  const bool cooling = state.resolved_at && now_ - *state.resolved_at < rule.cooldown;
  if (!state.firing && !state.true_since && !cooling && state.window.empty()) slot.reset();
}

void AlertEngine::evict_idle(bool full_tick) {
  const auto ttl = idle_ttl();
  for (auto it = subjects_.begin(); it != subjects_.end();) {
    const SubjectState& s = *it->second;
    // A full tick lists every tracked process: one missing from it has exited, and its identity
    // (tgid, start time) never comes back. Cgroups and the host may, so they keep their baseline.
    const bool exited = full_tick && s.subject.scope == Scope::kProcess && s.last_seen != now_;
    if (!busy(s) && (exited || now_ - s.last_seen > ttl)) {
      it = subjects_.erase(it);
      ++stats_.subjects_evicted;
    } else {
      ++it;
    }
  }
}

std::vector<AlertTransition> AlertEngine::set_rules(std::vector<RuleConfig> rules) {
  now_ = clock_.now();
  wall_now_ = clock_.wall_now();
  std::vector<AlertTransition> out;
  // new index -> old index of the identical rule, if any
  std::vector<std::optional<size_t>> kept(rules.size());
  for (size_t n = 0; n < rules.size(); ++n) {
    for (size_t o = 0; o < rules_.size(); ++o) {
      if (rules_[o] == rules[n]) kept[n] = o;
    }
  }
  for (auto& [key, subject] : subjects_) {
    std::vector<std::unique_ptr<RuleState>> remapped(rules.size());
    for (size_t n = 0; n < rules.size(); ++n) {
      if (kept[n]) remapped[n] = std::move(subject->rules[*kept[n]]);
    }
    for (auto& old : subject->rules) {  // what was not carried over
      if (old && old->firing) {
        old->alert.ends_at = wall_now_;
        out.push_back({AlertState::kResolved, old->alert});
      }
    }
    subject->rules = std::move(remapped);
  }
  rules_ = std::move(rules);
  for (const auto& rule : rules_) {
    const bool known = std::any_of(totals_.begin(), totals_.end(), [&](const RuleTotal& t) {
      return t.rule == rule.name && t.severity == rule.severity;
    });
    if (!known) totals_.push_back({rule.name, rule.severity, 0});
  }
  return out;
}

std::vector<Alert> AlertEngine::active() const {
  std::vector<Alert> alerts;
  for (const auto& [key, subject] : subjects_) {
    for (const auto& rule : subject->rules) {
      if (rule && rule->firing) alerts.push_back(rule->alert);
    }
  }
  std::sort(alerts.begin(), alerts.end(), [](const Alert& a, const Alert& b) {
    return std::tie(a.rule, a.subject) < std::tie(b.rule, b.subject);
  });
  return alerts;
}

std::vector<RuleTotal> AlertEngine::totals() const { return totals_; }

EngineStats AlertEngine::stats() const {
  EngineStats s = stats_;
  s.subjects = subjects_.size();
  return s;
}

}  // namespace cowwatch::alerts
