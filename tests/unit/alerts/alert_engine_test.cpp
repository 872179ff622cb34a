#include "alerts/alert_engine.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "fake_clock.h"

namespace cowwatch::alerts {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;

constexpr uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;

RuleConfig make_rule(RuleKind kind, Scope scope, double threshold, std::chrono::nanoseconds window,
                     std::chrono::nanoseconds for_duration = 0s, std::chrono::nanoseconds cooldown = 0s) {
  RuleConfig rule;
  rule.name = rule_kind_name(kind);
  rule.kind = kind;
  rule.scope = scope;
  rule.threshold = threshold;
  rule.window = window;
  rule.for_duration = for_duration;
  rule.cooldown = cooldown;
  rule.severity = kind == RuleKind::kPinnedCowCopy ? Severity::kCritical : Severity::kWarning;
  return rule;
}

Subject process(uint32_t pid, const std::string& comm) {
  return {Scope::kProcess, "pid " + std::to_string(pid) + " (" + comm + ")",
          {{"pid", std::to_string(pid)}, {"comm", comm}}};
}
Subject cgroup(const std::string& path) { return {Scope::kCgroup, path, {{"cgroup", path}}}; }

// Absolute counters for a subject, built by the test as the kernel would count.
struct Counters {
  Subject subject;
  cw_counters c{};
  Counters& add(int counter, uint64_t n) {
    c.c[counter] += n;
    return *this;
  }
  // n GUP unshare faults that copied, as do_wp_page counts them: kind unshare, reason unshare
  Counters& gup_unshares(uint64_t n) {
    return add(CW_C_WP_UNSHARE, n).add(copy_counter(CW_REASON_UNSHARE), n);
  }
  SubjectCounters sample() const { return {subject, c}; }
};

cw_event pinned_copy_event(uint32_t tgid) {
  cw_event e{};
  e.type = CW_EV_FAULT;
  e.decision = CW_DECISION_COPY;
  e.reason = CW_REASON_PINNED;
  e.page_flags = CW_PF_ANON | CW_PF_MAYBE_PINNED;
  e.anomaly = 1;
  e.tgid = tgid;
  return e;
}

cw_event fork_event(uint32_t parent, uint64_t pinned_vm_pages, bool mm_has_pinned,
                    uint64_t pinned_pages_copied = 0) {
  cw_event e{};
  e.address = pinned_pages_copied;
  e.type = CW_EV_FORK;
  e.hook = CW_HOOK_FORK;
  e.tgid = parent;
  e.aux1 = pinned_vm_pages;
  e.aux2 = parent + 1;
  e.page_flags = mm_has_pinned ? CW_PF_MM_HAS_PINNED : 0;
  e.reason = CW_REASON_COUNT;
  e.anomaly = 1;
  return e;
}

AlertInput counters_only(std::initializer_list<SubjectCounters> samples) {
  AlertInput in;
  in.subjects = samples;
  return in;
}

class EngineTest : public ::testing::Test {
 protected:
  FakeClock clock;
};

// ---- pinned_cow_copy: fire at once, hysteresis, cooldown ------------------------------------

TEST_F(EngineTest, PinnedCopyEventFiresAtOnceWithLabelsAndAnnotations) {
  RuleConfig rule = make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 5min, 0s, 10min);
  rule.labels = {{"team", "storage"}};
  AlertEngine engine({rule}, clock);
  Counters redis{process(123, "redis-server")};
  EXPECT_TRUE(engine.evaluate(counters_only({redis.sample()})).empty()) << "baseline only";

  clock.advance(200ms);
  AlertInput in;
  in.anomalies.push_back({pinned_copy_event(123), {redis.subject}});
  const auto transitions = engine.evaluate(in);
  ASSERT_EQ(transitions.size(), 1u);
  const AlertTransition& t = transitions[0];
  EXPECT_EQ(t.state, AlertState::kFiring);
  EXPECT_EQ(t.alert.rule, "pinned_cow_copy");
  EXPECT_EQ(t.alert.subject, "pid 123 (redis-server)");
  EXPECT_EQ(t.alert.value, 1);
  EXPECT_EQ(t.alert.starts_at, clock.wall_now());
  EXPECT_FALSE(t.alert.ends_at.has_value());
  const std::map<std::string, std::string> expected_labels = {
      {"alertname", "pinned_cow_copy"}, {"severity", "critical"}, {"scope", "process"},
      {"subject", "pid 123 (redis-server)"}, {"pid", "123"}, {"comm", "redis-server"},
      {"team", "storage"}};
  EXPECT_EQ(t.alert.labels, expected_labels);
  EXPECT_EQ(t.alert.annotations.at("summary"),
            "COW copy of a maybe-DMA-pinned page in pid 123 (redis-server)");
  EXPECT_NE(t.alert.annotations.at("description").find("1 copy-on-write copies"), std::string::npos);
  ASSERT_EQ(engine.active().size(), 1u);
  EXPECT_EQ(engine.totals()[0].fired, 1u);
}

TEST_F(EngineTest, EventAndItsCounterAreCountedOnce) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 2, 5min)}, clock);
  Counters p{process(7, "rdma")};
  engine.evaluate(counters_only({p.sample()}));
  // The copy arrives as an event, and the next counter poll includes the same copy.
  clock.advance(1s);
  AlertInput in;
  in.anomalies.push_back({pinned_copy_event(7), {p.subject}});
  EXPECT_TRUE(engine.evaluate(in).empty());
  clock.advance(1s);
  p.add(copy_counter(CW_REASON_PINNED), 1);
  EXPECT_TRUE(engine.evaluate(counters_only({p.sample()})).empty()) << "threshold 2: still 1 copy";
  // A second copy seen only by the counters (its event was dropped) makes 2.
  clock.advance(1s);
  p.add(copy_counter(CW_REASON_PINNED), 1);
  const auto t = engine.evaluate(counters_only({p.sample()}));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].alert.value, 2);
}

TEST_F(EngineTest, CounterDeltaAloneFires) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 5min)}, clock);
  Counters p{process(9, "fio")};
  p.add(copy_counter(CW_REASON_PINNED), 5);  // history before the daemon saw it: baseline
  EXPECT_TRUE(engine.evaluate(counters_only({p.sample()})).empty());
  clock.advance(1s);
  EXPECT_TRUE(engine.evaluate(counters_only({p.sample()})).empty());
  clock.advance(1s);
  p.add(copy_counter(CW_REASON_PINNED), 1);
  EXPECT_EQ(engine.evaluate(counters_only({p.sample()})).size(), 1u);
}

// The daemon lists processes as views into one text buffer (AlertFeed); the alert takes its labels
// from the view, and the engine keeps its own copy of the id.
TEST_F(EngineTest, ASubjectListedByViewsFiresWithItsLabels) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 5min)}, clock);
  auto text = std::make_unique<std::string>("pid 9 (fio)9fio/batch");
  const std::string_view t = *text;
  auto view = [&] {
    SubjectView v(Scope::kProcess, t.substr(0, 11));
    v.add_label("pid", t.substr(11, 1));
    v.add_label("comm", t.substr(12, 3));
    v.add_label("cgroup", t.substr(15, 6));
    return v;
  };
  cw_counters c{};
  engine.evaluate(counters_only({{view(), c}}));
  clock.advance(1s);
  c.c[copy_counter(CW_REASON_PINNED)] = 1;
  const auto transitions = engine.evaluate(counters_only({{view(), c}}));
  ASSERT_EQ(transitions.size(), 1u);
  EXPECT_EQ(transitions[0].alert.subject, "pid 9 (fio)");
  EXPECT_EQ(transitions[0].alert.labels.at("pid"), "9");
  EXPECT_EQ(transitions[0].alert.labels.at("comm"), "fio");
  EXPECT_EQ(transitions[0].alert.labels.at("cgroup"), "/batch");
  EXPECT_THROW(view().add_label("one", "too many"), std::logic_error);
  text.reset();  // the input's text is gone; what the engine holds is its own
  ASSERT_EQ(engine.active().size(), 1u);
  EXPECT_EQ(engine.active()[0].subject, "pid 9 (fio)");
  EXPECT_EQ(engine.active()[0].labels.at("comm"), "fio");
}

TEST_F(EngineTest, ResolvesOnlyAfterConditionFalseForAWholeWindow) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 5min)}, clock);
  Counters p{process(1, "a")};
  engine.evaluate(counters_only({p.sample()}));
  clock.advance(1s);
  p.add(copy_counter(CW_REASON_PINNED), 1);
  ASSERT_EQ(engine.evaluate(counters_only({p.sample()})).size(), 1u);
  const auto fired_at = clock.now();

  // Poll every second: the copy stays in the 5m window (to bucket precision, window/60 = 5s),
  // then the condition must be false for another 5m before the alert resolves.
  std::optional<std::chrono::nanoseconds> resolved_after;
  for (int i = 0; i < 20 * 60 && !resolved_after; ++i) {
    clock.advance(1s);
    for (const auto& t : engine.evaluate(counters_only({p.sample()}))) {
      EXPECT_EQ(t.state, AlertState::kResolved);
      ASSERT_TRUE(t.alert.ends_at.has_value());
      EXPECT_EQ(*t.alert.ends_at, clock.wall_now());
      resolved_after = clock.now() - fired_at;
    }
  }
  ASSERT_TRUE(resolved_after.has_value());
  EXPECT_GE(*resolved_after, 10min);
  EXPECT_LE(*resolved_after, 10min + 5s);
  EXPECT_TRUE(engine.active().empty());
}

TEST_F(EngineTest, NewEventWhileFiringKeepsItFiring) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 1min)}, clock);
  Counters p{process(1, "a")};
  engine.evaluate(counters_only({p.sample()}));
  p.add(copy_counter(CW_REASON_PINNED), 1);
  clock.advance(1s);
  ASSERT_EQ(engine.evaluate(counters_only({p.sample()})).size(), 1u);
  // One more copy every 90 s: each time the condition was false for < 1 window.
  for (int round = 0; round < 5; ++round) {
    for (int s = 0; s < 90; ++s) {
      clock.advance(1s);
      EXPECT_TRUE(engine.evaluate(counters_only({p.sample()})).empty()) << round << " " << s;
    }
    p.add(copy_counter(CW_REASON_PINNED), 1);
  }
  EXPECT_EQ(engine.active().size(), 1u);
  EXPECT_EQ(engine.totals()[0].fired, 1u);
}

TEST_F(EngineTest, CooldownSuppressesRefiring) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 1min, 0s, 10min)}, clock);
  Counters p{process(1, "a")};
  engine.evaluate(counters_only({p.sample()}));
  auto copy_and_tick = [&] {
    p.add(copy_counter(CW_REASON_PINNED), 1);
    clock.advance(1s);
    return engine.evaluate(counters_only({p.sample()}));
  };
  auto idle = [&](std::chrono::seconds d) {
    std::vector<AlertTransition> all;
    for (auto t = 0s; t < d; t += 1s) {
      clock.advance(1s);
      for (auto& x : engine.evaluate(counters_only({p.sample()}))) all.push_back(x);
    }
    return all;
  };
  ASSERT_EQ(copy_and_tick().size(), 1u);
  const auto resolved = idle(3min);
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].state, AlertState::kResolved);
  const auto resolved_at = clock.now() - 3min;  // (approximately; within the 3 min)
  (void)resolved_at;

  // Within the cooldown: the condition holds but nothing fires.
  EXPECT_TRUE(copy_and_tick().empty());
  EXPECT_TRUE(idle(1min).empty());
  EXPECT_TRUE(copy_and_tick().empty());
  EXPECT_TRUE(engine.active().empty());
  // Past the cooldown (10 min after the resolve) a copy fires again.
  EXPECT_TRUE(idle(9min).empty());
  const auto again = copy_and_tick();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].state, AlertState::kFiring);
  EXPECT_EQ(engine.totals()[0].fired, 2u);
}

TEST_F(EngineTest, ConditionHeldThroughCooldownFiresWhenItEnds) {
  AlertEngine engine({make_rule(RuleKind::kUnshareStorm, Scope::kProcess, 10, 10s, 0s, 1min)}, clock);
  Counters p{process(5, "worker")};
  engine.evaluate(counters_only({p.sample()}));
  std::vector<AlertTransition> log;
  std::vector<std::chrono::nanoseconds> when;
  const auto start = clock.now();
  auto run = [&](std::chrono::seconds d, uint64_t per_second) {
    for (auto t = 0s; t < d; t += 1s) {
      clock.advance(1s);
      p.gup_unshares(per_second);
      for (auto& x : engine.evaluate(counters_only({p.sample()}))) {
        log.push_back(x);
        when.push_back(clock.now() - start);
      }
    }
  };
  run(5s, 500);   // storm: fires
  run(30s, 0);    // quiet: resolves after 10 s false
  run(120s, 500); // storm again, right away: held back until the 1 min cooldown has passed
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].state, AlertState::kFiring);
  EXPECT_EQ(log[1].state, AlertState::kResolved);
  EXPECT_EQ(log[2].state, AlertState::kFiring);
  EXPECT_EQ(when[2] - when[1], 1min);
}

// ---- for-duration -------------------------------------------------------------------------

TEST_F(EngineTest, UnshareStormFiresAfterForDurationAndResolvesWithHysteresis) {
  AlertEngine engine({make_rule(RuleKind::kUnshareStorm, Scope::kProcess, 100, 10s, 30s)}, clock);
  Counters p{process(42, "postgres")};
  engine.evaluate(counters_only({p.sample()}));
  const auto start = clock.now();
  std::optional<std::chrono::nanoseconds> fired_after;
  for (int s = 1; s <= 60 && !fired_after; ++s) {
    clock.advance(1s);
    p.gup_unshares(2000);  // 2000/s: over 100/s as soon as the window holds 1 s of it
    const auto t = engine.evaluate(counters_only({p.sample()}));
    if (!t.empty()) {
      ASSERT_EQ(t[0].state, AlertState::kFiring);
      fired_after = clock.now() - start;
      EXPECT_NEAR(t[0].alert.value, 2000.0 * 10 / 10, 1e-9) << "window holds 10 s of 2000/s";
    }
  }
  ASSERT_TRUE(fired_after.has_value());
  EXPECT_EQ(*fired_after, 31s) << "true from the first second, then `for` 30 s";

  // The storm stops: the rate decays out of the 10 s window, then 10 s of false resolve it.
  std::optional<std::chrono::nanoseconds> resolved_after;
  const auto stop = clock.now();
  for (int s = 1; s <= 60 && !resolved_after; ++s) {
    clock.advance(1s);
    if (!engine.evaluate(counters_only({p.sample()})).empty()) resolved_after = clock.now() - stop;
  }
  ASSERT_TRUE(resolved_after.has_value());
  EXPECT_GE(*resolved_after, 19s);
  EXPECT_LE(*resolved_after, 21s);
}

// 6.12+ unmerges KSM pages with FAULT_FLAG_UNSHARE (break_ksm): those faults are unshare faults
// but no read-only pin forced them, so they are no GUP unshare storm (the alert would say pins).
TEST_F(EngineTest, KsmUnmergeUnshareFaultsAreNoUnshareStorm) {
  AlertEngine engine({make_rule(RuleKind::kUnshareStorm, Scope::kProcess, 100, 2s, 0s)}, clock);
  Counters p{process(7, "qemu")};
  engine.evaluate(counters_only({p.sample()}));
  for (int s = 0; s < 10; ++s) {
    clock.advance(1s);
    p.add(CW_C_WP_UNSHARE, 2000).add(copy_counter(CW_REASON_KSM), 1990).add(CW_C_KSM_UNMERGE_COPY, 1990);
    p.add(CW_C_KSM_UNMERGE_NOOP, 10);
    EXPECT_TRUE(engine.evaluate(counters_only({p.sample()})).empty()) << "second " << s;
  }
  // GUP unshares that found the page exclusive count: pins forced those faults too.
  clock.advance(1s);
  p.add(CW_C_WP_UNSHARE, 1000).add(CW_C_UNSHARE_NOOP, 1000);
  const auto t = engine.evaluate(counters_only({p.sample()}));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].state, AlertState::kFiring);
}

TEST_F(EngineTest, PendingResetsWhenConditionBreaksBeforeFor) {
  AlertEngine engine({make_rule(RuleKind::kUnshareStorm, Scope::kProcess, 100, 2s, 10s)}, clock);
  Counters p{process(42, "postgres")};
  engine.evaluate(counters_only({p.sample()}));
  auto run = [&](int seconds, uint64_t per_second) {
    size_t n = 0;
    for (int s = 0; s < seconds; ++s) {
      clock.advance(1s);
      p.gup_unshares(per_second);
      n += engine.evaluate(counters_only({p.sample()})).size();
    }
    return n;
  };
  EXPECT_EQ(run(8, 1000), 0u);  // pending 8 s
  EXPECT_EQ(run(5, 0), 0u);     // breaks: pending is reset
  EXPECT_EQ(run(9, 1000), 0u);  // pending again from zero, still < 10 s
  EXPECT_EQ(run(3, 1000), 1u);  // now it holds for 10 s
}

// ---- fork_with_pins -------------------------------------------------------------------------

TEST_F(EngineTest, StickyHasPinnedFlagAloneNeverFires) {
  AlertEngine engine({make_rule(RuleKind::kForkWithPins, Scope::kProcess, 1, 5min)}, clock);
  Counters p{process(300, "python")};
  engine.evaluate(counters_only({p.sample()}));
  for (int i = 0; i < 10; ++i) {
    clock.advance(1s);
    p.add(CW_C_FORK, 1).add(CW_C_FORK_MM_HAS_PINNED, 1);  // pinned once, pins long released
    AlertInput in = counters_only({p.sample()});
    in.anomalies.push_back({fork_event(300, /*pinned_vm_pages=*/0, /*mm_has_pinned=*/true), {p.subject}});
    EXPECT_TRUE(engine.evaluate(in).empty()) << i;
  }
  EXPECT_TRUE(engine.active().empty());
}

TEST_F(EngineTest, ForkThatCopiedPinnedPagesFiresFromCounterOrEvent) {
  AlertEngine engine({make_rule(RuleKind::kForkWithPins, Scope::kProcess, 1, 5min)}, clock);
  Counters by_counter{process(301, "rdma-a")};
  Counters by_event{process(302, "rdma-b")};
  engine.evaluate(counters_only({by_counter.sample(), by_event.sample()}));
  clock.advance(1s);
  by_counter.add(CW_C_FORK, 1).add(CW_C_FORK_MM_HAS_PINNED, 1).add(CW_C_FORK_LONGTERM_PINS, 1)
      .add(CW_C_FORK_PINNED_COPIES, 16);
  AlertInput in = counters_only({by_counter.sample(), by_event.sample()});
  in.anomalies.push_back({fork_event(302, /*pinned_vm_pages=*/256, true, /*copied=*/256), {by_event.subject}});
  const auto t = engine.evaluate(in);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].alert.subject, "pid 301 (rdma-a)");
  EXPECT_EQ(t[1].alert.subject, "pid 302 (rdma-b)");
  EXPECT_EQ(t[0].alert.labels.at("severity"), "warning");
  EXPECT_NE(t[0].alert.annotations.at("description").find("16 maybe-DMA-pinned pages copied"), std::string::npos)
      << t[0].alert.annotations.at("description");
  EXPECT_NE(t[1].alert.annotations.at("description").find("256 maybe-DMA-pinned pages copied"), std::string::npos)
      << t[1].alert.annotations.at("description");
}

// MADV_DONTFORK on the pinned region: the parent holds long-term pins, the fork copies nothing.
TEST_F(EngineTest, LongTermPinsThatForkDidNotCopyNeverFire) {
  AlertEngine engine({make_rule(RuleKind::kForkWithPins, Scope::kProcess, 1, 5min)}, clock);
  Counters p{process(303, "uring")};
  engine.evaluate(counters_only({p.sample()}));
  for (int i = 0; i < 5; ++i) {
    clock.advance(1s);
    p.add(CW_C_FORK, 1).add(CW_C_FORK_MM_HAS_PINNED, 1).add(CW_C_FORK_LONGTERM_PINS, 1);
    AlertInput in = counters_only({p.sample()});
    in.anomalies.push_back({fork_event(303, /*pinned_vm_pages=*/512, true, /*copied=*/0), {p.subject}});
    EXPECT_TRUE(engine.evaluate(in).empty()) << i;
  }
}

// Where copy_page_range cannot be probed, long-term-pinned forks are all there is; the alert
// says it cannot tell whether anything was copied.
TEST_F(EngineTest, WithoutObservableForkCopiesLongTermPinnedForksFireAndSaySo) {
  EngineOptions options;
  options.fork_pinned_copies_seen = false;
  AlertEngine engine({make_rule(RuleKind::kForkWithPins, Scope::kProcess, 1, 5min)}, clock, options);
  Counters p{process(304, "rdma")};
  engine.evaluate(counters_only({p.sample()}));
  clock.advance(1s);
  p.add(CW_C_FORK, 1).add(CW_C_FORK_MM_HAS_PINNED, 1).add(CW_C_FORK_LONGTERM_PINS, 1);
  const auto t = engine.evaluate(counters_only({p.sample()}));
  ASSERT_EQ(t.size(), 1u);
  const std::string& text = t[0].alert.annotations.at("description");
  EXPECT_NE(text.find("1 forks"), std::string::npos) << text;
  EXPECT_NE(text.find("does not show whether the pinned pages were copied"), std::string::npos) << text;
}

// ---- pinned_swap_attempt, scopes ------------------------------------------------------------

TEST_F(EngineTest, PinnedSwapAttemptWatchesOnlyItsScope) {
  AlertEngine engine({make_rule(RuleKind::kPinnedSwapAttempt, Scope::kCgroup, 3, 10min)}, clock);
  Counters cg{cgroup("system.slice/db.service")};
  Counters proc{process(10, "db")};
  engine.evaluate(counters_only({cg.sample(), proc.sample()}));
  clock.advance(1s);
  proc.add(CW_C_PINNED_SWAP_SKIP, 100);  // a process subject: not this rule's scope
  cg.add(CW_C_PINNED_SWAP_SKIP, 1).add(CW_C_SWAP_ADD_PINNED, 1);
  EXPECT_TRUE(engine.evaluate(counters_only({cg.sample(), proc.sample()})).empty()) << "2 < 3";
  clock.advance(1s);
  AlertInput in = counters_only({cg.sample(), proc.sample()});
  cw_event skip{};
  skip.type = CW_EV_PINNED_SWAP_SKIP;
  in.anomalies.push_back({skip, {cg.subject}});
  const auto t = engine.evaluate(in);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].alert.scope, Scope::kCgroup);
  EXPECT_EQ(t[0].alert.subject, "system.slice/db.service");
  EXPECT_EQ(t[0].alert.labels.at("cgroup"), "system.slice/db.service");
  EXPECT_EQ(t[0].alert.value, 3);
}

// ---- extra_ref_copies -----------------------------------------------------------------------

TEST_F(EngineTest, ExtraRefRatioNeedsMinimumCopies) {
  RuleConfig rule = make_rule(RuleKind::kExtraRefCopies, Scope::kHost, 0.5, 1min);
  rule.min_copies = 100;
  AlertEngine engine({rule}, clock);
  Counters host{{Scope::kHost, "host", {}}};
  engine.evaluate(counters_only({host.sample()}));
  clock.advance(1s);
  host.add(copy_counter(CW_REASON_EXTRA_REF), 45).add(copy_counter(CW_REASON_SHARED), 5);
  EXPECT_TRUE(engine.evaluate(counters_only({host.sample()})).empty()) << "90% but only 50 copies";
  clock.advance(1s);
  host.add(copy_counter(CW_REASON_EXTRA_REF), 35).add(copy_counter(CW_REASON_SHARED), 15);
  const auto t = engine.evaluate(counters_only({host.sample()}));
  ASSERT_EQ(t.size(), 1u) << "80 of 100 copies";
  EXPECT_DOUBLE_EQ(t[0].alert.value, 0.8);
  EXPECT_EQ(t[0].alert.annotations.at("summary"), "80% of COW copies in host were avoidable (extra_ref)");
  EXPECT_EQ(t[0].alert.severity, Severity::kWarning);
}

TEST_F(EngineTest, ExtraRefBelowRatioDoesNotFireAndFiringOneResolves) {
  RuleConfig rule = make_rule(RuleKind::kExtraRefCopies, Scope::kHost, 0.5, 10s);
  rule.min_copies = 10;
  AlertEngine engine({rule}, clock);
  Counters host{{Scope::kHost, "host", {}}};
  engine.evaluate(counters_only({host.sample()}));
  clock.advance(1s);
  host.add(copy_counter(CW_REASON_EXTRA_REF), 40).add(copy_counter(CW_REASON_SHARED), 60);
  EXPECT_TRUE(engine.evaluate(counters_only({host.sample()})).empty()) << "40% < 50%";
  clock.advance(1s);
  host.add(copy_counter(CW_REASON_EXTRA_REF), 100);
  ASSERT_EQ(engine.evaluate(counters_only({host.sample()})).size(), 1u) << "140/200 = 70%";
  // Only shared copies from now on: the share drops below 50% once the window forgets the burst.
  std::optional<int> resolved_at;
  for (int s = 1; s <= 40 && !resolved_at; ++s) {
    clock.advance(1s);
    host.add(copy_counter(CW_REASON_SHARED), 100);
    if (!engine.evaluate(counters_only({host.sample()})).empty()) resolved_at = s;
  }
  ASSERT_TRUE(resolved_at.has_value());
  EXPECT_GE(*resolved_at, 10);
  EXPECT_LE(*resolved_at, 12);
}

// ---- fork_cow_blowup ------------------------------------------------------------------------

TEST_F(EngineTest, BlowupProjectionIsBoundedByRss) {
  AlertEngine engine({make_rule(RuleKind::kForkCowBlowup, Scope::kProcess, 1.0 * kGiB, 1min)}, clock);
  const Subject redis = process(500, "redis-server");
  AlertInput in;
  in.forks.push_back({redis, 501, 100 * kMiB, 3 * kGiB, 800 * kMiB});
  EXPECT_TRUE(engine.evaluate(in).empty()) << "projection 3 GiB, but RSS at fork was 800 MiB";

  clock.advance(1s);
  in.forks[0] = {redis, 501, 200 * kMiB, 3 * kGiB, 2 * kGiB};
  auto t = engine.evaluate(in);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].alert.value, 2.0 * kGiB);
  EXPECT_EQ(t[0].alert.annotations.at("summary"), "fork in pid 500 (redis-server) will copy ~2.0GiB");
  EXPECT_EQ(t[0].alert.annotations.at("description"),
            "child 501: 200MiB copied since the fork, projected 3.0GiB at the current rate "
            "(bounded by anon RSS at fork 2.0GiB); threshold 1.0GiB.");
}

TEST_F(EngineTest, BlowupCopiedBytesCountWithoutProjectionAndResolveAfterEpisodeEnds) {
  AlertEngine engine({make_rule(RuleKind::kForkCowBlowup, Scope::kProcess, 1.0 * kGiB, 30s)}, clock);
  const Subject redis = process(500, "redis-server");
  AlertInput in;
  in.forks.push_back({redis, 501, 512 * kMiB, 0, 0});
  in.forks.push_back({redis, 502, 1536 * kMiB, 0, 0});  // two children: the larger counts
  auto t = engine.evaluate(in);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].alert.value, 1536.0 * kMiB);
  // The children exit: no episode. Resolves after 30 s of false.
  std::optional<int> resolved_at;
  for (int s = 1; s <= 60 && !resolved_at; ++s) {
    clock.advance(1s);
    if (!engine.evaluate(AlertInput{}).empty()) resolved_at = s;
  }
  EXPECT_EQ(resolved_at, 31);
}

// ---- bounded state, reload, totals ----------------------------------------------------------

TEST_F(EngineTest, IdleSubjectsAreEvicted) {
  EngineOptions options;
  options.subject_idle_ttl = 1min;
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 10s)}, clock, options);
  std::vector<Subject> processes;
  for (uint32_t pid = 1; pid <= 1000; ++pid) processes.push_back(process(pid, "w"));
  AlertInput in;
  for (const Subject& p : processes) in.subjects.push_back({p, {}});
  engine.evaluate(in);
  EXPECT_EQ(engine.stats().subjects, 1000u);
  clock.advance(59s);
  engine.evaluate(counters_only({in.subjects[0]}));  // pid 1 is still alive
  clock.advance(2s);
  engine.evaluate(AlertInput{});
  EXPECT_EQ(engine.stats().subjects, 1u);
  EXPECT_EQ(engine.stats().subjects_evicted, 999u);
}

// Processes exit for good: a churning host must not hold every short-lived process for the
// longest rule's window + for + cooldown (85 min with the defaults), nor fill max_subjects.
TEST_F(EngineTest, ExitedProcessIsForgottenAtTheNextFullTickCgroupsWaitForTheTtl) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 30min)}, clock);
  const Subject host_subject{Scope::kHost, "host", {}}, web_subject = cgroup("/web");
  const Subject short_lived_subject = process(7, "short");
  const SubjectCounters host{host_subject, {}}, web{web_subject, {}}, short_lived{short_lived_subject, {}};
  engine.evaluate(counters_only({host, web, short_lived}));
  ASSERT_EQ(engine.stats().subjects, 3u);
  clock.advance(1s);
  engine.evaluate(AlertInput{});  // an anomaly-only tick lists nobody: nothing is forgotten
  EXPECT_EQ(engine.stats().subjects, 3u);
  clock.advance(1s);
  engine.evaluate(counters_only({host}));  // full tick: pid 7 has exited, /web may come back
  EXPECT_EQ(engine.stats().subjects, 2u);
  EXPECT_EQ(engine.stats().subjects_evicted, 1u);
  clock.advance(61min);  // past 2 x window + for + cooldown
  engine.evaluate(counters_only({host}));
  EXPECT_EQ(engine.stats().subjects, 1u);
}

TEST_F(EngineTest, ExitedProcessWithRuleStateIsKeptUntilItsAlertResolves) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 10s)}, clock);
  const Subject host_subject{Scope::kHost, "host", {}};
  const SubjectCounters host{host_subject, {}};
  AlertInput in = counters_only({host});
  in.anomalies.push_back({pinned_copy_event(9), {process(9, "pinner")}});
  ASSERT_EQ(engine.evaluate(in).size(), 1u);  // fires
  clock.advance(1s);
  engine.evaluate(counters_only({host}));  // pid 9 exited while its alert fires
  EXPECT_EQ(engine.stats().subjects, 2u);
  EXPECT_EQ(engine.active().size(), 1u);
}

TEST_F(EngineTest, FiringSubjectIsKeptUntilResolvedThenEvicted) {
  EngineOptions options;
  options.subject_idle_ttl = 1s;
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 10s)}, clock, options);
  AlertInput in;
  in.anomalies.push_back({pinned_copy_event(1), {process(1, "gone")}});
  ASSERT_EQ(engine.evaluate(in).size(), 1u);
  // The process exited: no more input at all. The alert still resolves, then state goes.
  int resolved = 0;
  for (int s = 0; s < 60; ++s) {
    clock.advance(1s);
    resolved += static_cast<int>(engine.evaluate(AlertInput{}).size());
  }
  EXPECT_EQ(resolved, 1);
  EXPECT_EQ(engine.stats().subjects, 0u);
}

TEST_F(EngineTest, MaxSubjectsRejectsNewSubjects) {
  EngineOptions options;
  options.max_subjects = 10;
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 10s)}, clock, options);
  std::vector<Subject> processes;
  for (uint32_t pid = 1; pid <= 25; ++pid) processes.push_back(process(pid, "w"));
  AlertInput in;
  for (const Subject& p : processes) in.subjects.push_back({p, {}});
  engine.evaluate(in);
  EXPECT_EQ(engine.stats().subjects, 10u);
  EXPECT_EQ(engine.stats().subjects_rejected, 15u);
}

TEST_F(EngineTest, CounterGoingBackwardsStartsANewBaseline) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 1min)}, clock);
  Counters p{process(1, "a")};
  p.add(copy_counter(CW_REASON_PINNED), 10);
  engine.evaluate(counters_only({p.sample()}));
  clock.advance(1s);
  Counters recreated{process(1, "a")};  // same id, counters from zero
  EXPECT_TRUE(engine.evaluate(counters_only({recreated.sample()})).empty());
  clock.advance(1s);
  recreated.add(copy_counter(CW_REASON_PINNED), 1);
  EXPECT_EQ(engine.evaluate(counters_only({recreated.sample()})).size(), 1u);
}

TEST_F(EngineTest, ReloadKeepsUnchangedRulesAndResolvesRemovedOnes) {
  const RuleConfig pinned = make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 5min);
  const RuleConfig forks = make_rule(RuleKind::kForkWithPins, Scope::kProcess, 1, 5min);
  AlertEngine engine({pinned, forks}, clock);
  Counters p{process(1, "a")};
  engine.evaluate(counters_only({p.sample()}));
  clock.advance(1s);
  p.add(copy_counter(CW_REASON_PINNED), 1).add(CW_C_FORK_PINNED_COPIES, 1);
  ASSERT_EQ(engine.evaluate(counters_only({p.sample()})).size(), 2u);

  clock.advance(1s);
  RuleConfig stricter = forks;
  stricter.threshold = 5;
  const auto t = engine.set_rules({pinned, stricter});
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].state, AlertState::kResolved);
  EXPECT_EQ(t[0].alert.rule, "fork_with_pins");
  ASSERT_EQ(engine.active().size(), 1u);
  EXPECT_EQ(engine.active()[0].rule, "pinned_cow_copy");
  clock.advance(1s);
  EXPECT_TRUE(engine.evaluate(counters_only({p.sample()})).empty()) << "kept state: no re-fire";
  const auto totals = engine.totals();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[0].fired, 1u);
  EXPECT_EQ(totals[1].fired, 1u);
}

TEST_F(EngineTest, TotalsListEveryRuleFromTheStart) {
  AlertEngine engine({make_rule(RuleKind::kPinnedCowCopy, Scope::kProcess, 1, 5min),
                      make_rule(RuleKind::kUnshareStorm, Scope::kProcess, 1, 5min)},
                     clock);
  const auto totals = engine.totals();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[0].rule, "pinned_cow_copy");
  EXPECT_EQ(totals[0].severity, Severity::kCritical);
  EXPECT_EQ(totals[0].fired, 0u);
  EXPECT_EQ(totals[1].rule, "unshare_storm");
}

}  // namespace
}  // namespace cowwatch::alerts
