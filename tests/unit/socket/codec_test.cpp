#include "protocol/protocol_codec.h"

#include <gtest/gtest.h>

#include <cstring>

#include "protocol/protocol_names.h"

namespace cowwatch::control {
namespace {

using nlohmann::json;

cw_event sample_event() {
  cw_event e{};
  e.ts_ns = 123456789012345ull;
  e.start_ns = 42;
  e.cgroup_id = 7;
  e.address = 0x7f0000001000ull;
  e.aux0 = 1;
  e.aux1 = 2;
  e.tgid = 100;
  e.pid = 101;
  e.actor_tgid = 102;
  e.aux2 = 3;
  e.refcount = 3;
  e.mapcount = -1;
  e.type = CW_EV_FAULT;
  e.hook = CW_HOOK_COW_COPY;
  e.decision = CW_DECISION_COPY;
  e.reason = CW_REASON_EXTRA_REF;
  e.fault_flags = CW_FF_WRITE;
  e.page_flags = CW_PF_ANON | CW_PF_SWAPCACHE;
  e.folio_order = 2;
  e.anomaly = 1;
  std::memcpy(e.comm, "0123456789abcdef", 16);  // no terminating NUL
  return e;
}

TEST(CodecTest, EventRoundTripsAndUsesNames) {
  cw_event e = sample_event();
  json j = event_to_json(e);
  EXPECT_EQ(j["hook"], "cow_copy");
  EXPECT_EQ(j["reason"], "extra_ref");
  EXPECT_EQ(j["decision"], "copy");
  EXPECT_EQ(j["type"], "fault");
  EXPECT_EQ(j["comm"], "0123456789abcdef");
  cw_event back{};
  std::string error;
  ASSERT_TRUE(event_from_json(j, &back, &error)) << error;
  EXPECT_EQ(back.ts_ns, e.ts_ns);
  EXPECT_EQ(back.mapcount, -1);
  EXPECT_EQ(back.reason, CW_REASON_EXTRA_REF);
  EXPECT_EQ(back.folio_order, 2);
  EXPECT_STREQ(back.comm, "0123456789abcde");  // truncated to fit with its NUL
}

TEST(CodecTest, EventAcceptsNumbersForEnumsAndRejectsBadFields) {
  json j = event_to_json(sample_event());
  j["hook"] = 4;
  cw_event back{};
  std::string error;
  ASSERT_TRUE(event_from_json(j, &back, &error));
  EXPECT_EQ(back.hook, CW_HOOK_SWAP_ADD);
  j["reason"] = "bogus";
  EXPECT_FALSE(event_from_json(j, &back, &error));
  EXPECT_NE(error.find("reason"), std::string::npos);
  j = event_to_json(sample_event());
  j["tgid"] = -1;
  EXPECT_FALSE(event_from_json(j, &back, &error));
  j["tgid"] = 1ull << 33;
  EXPECT_FALSE(event_from_json(j, &back, &error));
  j.erase("tgid");
  EXPECT_FALSE(event_from_json(j, &back, &error));
}

TEST(CodecTest, OutOfRangeEnumIsWrittenAsANumber) {
  cw_event e = sample_event();
  e.hook = 200;
  json j = event_to_json(e);
  EXPECT_EQ(j["hook"], 200);
}

TEST(CodecTest, SampleRoundTrips) {
  ingest::KernelSample s;
  s.mono_ns = 99;
  s.host.c[CW_C_SWAP_ADD] = 5;
  s.drops[CW_DROP_RING_FULL] = 8;
  s.processes.push_back({{10, 0, 20}, {}});
  s.processes[0].counters.c[int{CW_C_COPY_FIRST} + CW_REASON_SHARED] = 77;
  s.process_map_capacity = 1024;
  s.programs.push_back({"cw_fexit_do_wp_page", 1, 2, 3});
  json j = sample_to_json(s);
  EXPECT_EQ(j["drops"]["ring_full"], 8);
  ingest::KernelSample back;
  std::string error;
  ASSERT_TRUE(sample_from_json(j, {}, &back, &error)) << error;
  EXPECT_EQ(back.mono_ns, 99u);
  EXPECT_EQ(back.host.c[CW_C_SWAP_ADD], 5u);
  EXPECT_EQ(back.drops[CW_DROP_RING_FULL], 8u);
  ASSERT_EQ(back.processes.size(), 1u);
  EXPECT_EQ(back.processes[0].key.tgid, 10u);
  EXPECT_EQ(back.processes[0].key.start_ns, 20u);
  EXPECT_EQ(back.processes[0].counters.c[int{CW_C_COPY_FIRST} + CW_REASON_SHARED], 77u);
  EXPECT_EQ(back.process_map_capacity, 1024u);
  ASSERT_EQ(back.programs.size(), 1u);
  EXPECT_EQ(back.programs[0].recursion_misses, 3u);
}

TEST(CodecTest, CounterColumnsAreMappedByName) {
  // A recording whose columns are [fork, something_new, swap_add].
  std::vector<int> map = {*parse_counter("fork"), -1, *parse_counter("swap_add")};
  cw_counters c{};
  std::string error;
  ASSERT_TRUE(counters_from_json(json::array({4, 5, 6}), map, &c, &error));
  EXPECT_EQ(c.c[CW_C_FORK], 4u);
  EXPECT_EQ(c.c[CW_C_SWAP_ADD], 6u);
  uint64_t total = 0;
  for (auto v : c.c) total += v;
  EXPECT_EQ(total, 10u);
}

TEST(CodecTest, PlanRoundTrips) {
  probe::ProbePlan plan;
  plan.kernel_release = "6.12.1";
  for (int i = 0; i < CW_HOOK_COUNT; ++i) plan.hooks[i].hook = static_cast<cw_hook>(i);
  auto& h = plan.hooks[CW_HOOK_COW_COPY];
  h.strategy = probe::Strategy::kDerived;
  h.target = "do_wp_page pfn compare";
  h.accuracy = "misses nothing known";
  h.ladder = {{probe::Strategy::kFentry, "wp_page_copy", false, "no BTF FUNC"},
              {probe::Strategy::kDerived, "do_wp_page", true, "ok"}};
  json j = plan_to_json(plan);
  EXPECT_EQ(j["hooks"][1]["strategy"], "derived");
  probe::ProbePlan back;
  std::string error;
  ASSERT_TRUE(plan_from_json(j, &back, &error)) << error;
  EXPECT_EQ(back.kernel_release, "6.12.1");
  EXPECT_EQ(back.hooks[CW_HOOK_COW_COPY].strategy, probe::Strategy::kDerived);
  ASSERT_EQ(back.hooks[CW_HOOK_COW_COPY].ladder.size(), 2u);
  EXPECT_EQ(back.hooks[CW_HOOK_COW_COPY].ladder[0].outcome, "no BTF FUNC");
  EXPECT_TRUE(back.hooks[CW_HOOK_COW_COPY].ladder[1].chosen);
  EXPECT_EQ(back.hooks[CW_HOOK_FORK].strategy, probe::Strategy::kUnavailable);
}

TEST(CodecTest, NamesMatchTheMetricLabels) {
  EXPECT_EQ(hook_label(CW_HOOK_GUP_UNSHARE), "gup_unshare");
  EXPECT_EQ(reason_label(CW_REASON_LARGE_FOLIO), "large_folio");
  EXPECT_EQ(reason_label(CW_REASON_COUNT), "none");
  EXPECT_EQ(decision_label(CW_DECISION_SHARED_MAPPING), "shared_mapping");
  EXPECT_EQ(counter_label(CW_C_REUSE_EXCLUSIVE), "reuse_exclusive");
  EXPECT_EQ(counter_label(CW_C_WP_APPROX), "wp_approx");
  EXPECT_EQ(counter_label(int{CW_C_COPY_FIRST} + CW_REASON_OTHER), "copy_other");
  EXPECT_EQ(strategy_label(probe::Strategy::kUnavailable), "unavailable");
  EXPECT_EQ(hook_label(99), "unknown");
}

}  // namespace
}  // namespace cowwatch::control
