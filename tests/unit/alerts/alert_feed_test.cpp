// AlertFeed: what the engine is shown each tick. A subject's first tick presents zero counters
// (the engine's baseline), later ticks its totals; process subjects are views into the input's own
// text with the same id and labels as process_subject(); a rename is a new subject.
#include <gtest/gtest.h>

#include "app/alert_feed.h"
#include "model_fixtures.h"

namespace cowwatch::app {
namespace {

using namespace model::testing;

constexpr uint64_t kStartA = 1 * kSecond, kStartB = 2 * kSecond;

const alerts::SubjectCounters* find(const alerts::AlertInput& in, const std::string& id) {
  for (const auto& s : in.subjects)
    if (s.subject.id.find(id) != std::string_view::npos) return &s;
  return nullptr;
}

class AlertFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree.add_process(100, kStartA, "redis-server", "/system.slice/redis.service");
    tree.add_process(200, kStartB, "bash", "/user.slice");
  }
  TempTree tree;
};

TEST_F(AlertFeedTest, FirstTickShowsZeroCountersLaterTicksTheTotals) {
  model::Aggregator aggregator(tree.options());
  AlertFeed feed;
  aggregator.apply(SampleBuilder(1 * kSecond)
                       .host(counters({{CW_C_WP_WRITE, 7}}))
                       .process(100, kStartA, counters({{CW_C_WP_WRITE, 5}})));
  const alerts::AlertInput first = feed.build(aggregator);
  const auto* redis = find(first, "pid 100 (redis-server");
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis->counters.c[CW_C_WP_WRITE], 0u);
  EXPECT_EQ(find(first, "host")->counters.c[CW_C_WP_WRITE], 0u);
  EXPECT_EQ(find(first, "system.slice/redis.service")->counters.c[CW_C_WP_WRITE], 0u);
  // The same subject process_subject() describes, as views.
  const alerts::Subject built = process_subject(100, kStartA, "redis-server", "system.slice/redis.service");
  EXPECT_EQ(redis->subject.id, built.id);
  EXPECT_EQ(redis->subject.labels(), built.labels);
  EXPECT_TRUE(redis->subject.has_labels(built.labels));
  const auto* cgroup = find(first, "system.slice/redis.service");
  EXPECT_EQ(cgroup->subject.scope, alerts::Scope::kCgroup);
  EXPECT_EQ(cgroup->subject.labels(), cgroup_subject("system.slice/redis.service").labels);

  aggregator.apply(SampleBuilder(2 * kSecond)
                       .host(counters({{CW_C_WP_WRITE, 9}}))
                       .process(100, kStartA, counters({{CW_C_WP_WRITE, 6}})));
  const alerts::AlertInput second = feed.build(aggregator);
  redis = find(second, "pid 100 (redis-server");
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis->counters.c[CW_C_WP_WRITE], 6u);
  EXPECT_EQ(find(second, "host")->counters.c[CW_C_WP_WRITE], 9u);
  EXPECT_EQ(find(second, "system.slice/redis.service")->counters.c[CW_C_WP_WRITE], 6u);
}

TEST_F(AlertFeedTest, AnExitedProcessIsNotListedAndAnAnomalyOnlyTickListsNobody) {
  model::Aggregator aggregator(tree.options());
  AlertFeed feed;
  aggregator.apply(SampleBuilder(1 * kSecond)
                       .process(100, kStartA, counters({{CW_C_WP_WRITE, 1}}))
                       .process(200, kStartB, counters({{CW_C_WP_WRITE, 1}})));
  const size_t both = feed.build(aggregator).subjects.size();
  EXPECT_TRUE(feed.build_anomalies_only().subjects.empty());

  aggregator.on_event(event(CW_EV_EXIT, 200, kStartB, "bash"));
  aggregator.on_exit(key(200, kStartB), counters({{CW_C_WP_WRITE, 1}}));
  tree.remove_process(200);
  const alerts::AlertInput after = feed.build(aggregator);
  EXPECT_EQ(find(after, "pid 200 ("), nullptr);
  EXPECT_NE(find(after, "pid 100 ("), nullptr);
  EXPECT_LT(after.subjects.size(), both);
}

TEST_F(AlertFeedTest, ARenamedProcessIsANewSubjectWithZeroCounters) {
  model::Aggregator aggregator(tree.options());
  AlertFeed feed;
  aggregator.apply(SampleBuilder(1 * kSecond).process(100, kStartA, counters({{CW_C_WP_WRITE, 3}})));
  feed.build(aggregator);
  aggregator.apply(SampleBuilder(2 * kSecond).process(100, kStartA, counters({{CW_C_WP_WRITE, 4}})));
  ASSERT_EQ(find(feed.build(aggregator), "pid 100 (redis-server")->counters.c[CW_C_WP_WRITE], 4u);

  tree.add_process(100, kStartA, "redis-rdb-bgsav", "/system.slice/redis.service");
  aggregator.on_event(event(CW_EV_RENAME, 100, kStartA, "redis-rdb-bgsav"));
  aggregator.apply(SampleBuilder(3 * kSecond).process(100, kStartA, counters({{CW_C_WP_WRITE, 5}})));
  const alerts::AlertInput renamed = feed.build(aggregator);
  EXPECT_EQ(find(renamed, "pid 100 (redis-server"), nullptr);
  const auto* now = find(renamed, "pid 100 (redis-rdb-bgsav");
  ASSERT_NE(now, nullptr);
  EXPECT_EQ(now->counters.c[CW_C_WP_WRITE], 0u);  // the engine's new baseline
  EXPECT_EQ(now->subject.labels().at("comm"), "redis-rdb-bgsav");
}

}  // namespace
}  // namespace cowwatch::app
