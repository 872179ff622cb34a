// Aggregation, monotonic totals, exit folding, GC of vanished processes, eviction at the cap,
// comm/cgroup overflow and top-K selection.
#include <gtest/gtest.h>

#include "model/aggregator.h"
#include "model_fixtures.h"

namespace cowwatch::model {
namespace {

using namespace testing;

constexpr uint64_t kStartA = 1 * kSecond, kStartB = 2 * kSecond, kStartC = 3 * kSecond;

class AggregatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree.add_process(100, kStartA, "redis-server", "/system.slice/redis.service");
    tree.add_process(200, kStartB, "redis-server", "/system.slice/redis.service");
    tree.add_process(300, kStartC, "bash", "/user.slice");
  }
  uint64_t comm_copies(const Aggregator& aggregator, const std::string& comm) {
    const GroupRow* row = find_row(aggregator.metrics_snapshot()->comms, comm);
    return row ? copies(row->totals) : 0;
  }
  TempTree tree;
};

TEST_F(AggregatorTest, SumsProcessesPerCommAndCgroupAndTakesHostFromHostCounters) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(10 * kSecond)
                       .host(counters({{kShared, 100}, {CW_C_WP_WRITE, 500}}))
                       .process(100, kStartA, counters({{kShared, 10}, {CW_C_WP_WRITE, 12}}))
                       .process(200, kStartB, counters({{kShared, 5}}))
                       .process(300, kStartC, counters({{CW_C_REUSE_EXCLUSIVE, 3}})));
  auto snapshot = aggregator.metrics_snapshot();
  EXPECT_EQ(snapshot->host[copy_tally(CW_REASON_SHARED)], 100u);  // exact host, not the sum
  EXPECT_EQ(snapshot->host[kWpWrite], 500u);
  const GroupRow* redis = find_row(snapshot->comms, "redis-server");
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis->totals[copy_tally(CW_REASON_SHARED)], 15u);
  EXPECT_EQ(redis->totals[kWpWrite], 12u);
  const GroupRow* service = find_row(snapshot->cgroups, "system.slice/redis.service");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(copies(service->totals), 15u);
  const GroupRow* bash_cgroup = find_row(snapshot->cgroups, "user.slice");
  ASSERT_NE(bash_cgroup, nullptr);
  EXPECT_EQ(bash_cgroup->totals[kReuseExclusive], 3u);
  EXPECT_EQ(snapshot->tracked_processes, 3u);
}

TEST_F(AggregatorTest, AddsDeltasAndStaysMonotonicWhenACounterDips) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(100, kStartA, counters({{kShared, 10}})));
  aggregator.apply(SampleBuilder(2 * kSecond).process(100, kStartA, counters({{kShared, 25}})));
  EXPECT_EQ(comm_copies(aggregator, "redis-server"), 25u);
  aggregator.apply(SampleBuilder(3 * kSecond).process(100, kStartA, counters({{kShared, 20}})));
  EXPECT_EQ(comm_copies(aggregator, "redis-server"), 25u);
  aggregator.apply(SampleBuilder(4 * kSecond).process(100, kStartA, counters({{kShared, 30}})));
  EXPECT_EQ(comm_copies(aggregator, "redis-server"), 30u);
}

TEST_F(AggregatorTest, HostTotalsContinueAfterAKernelReset) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).host(counters({{CW_C_WP_WRITE, 40}})));
  aggregator.reset_kernel_baselines();
  aggregator.apply(SampleBuilder(2 * kSecond).host(counters({{CW_C_WP_WRITE, 5}})));
  EXPECT_EQ(aggregator.metrics_snapshot()->host[kWpWrite], 45u);
}

TEST_F(AggregatorTest, ExitFoldsFinalCountersAndForgetsTheProcess) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond)
                       .process(100, kStartA, counters({{kShared, 10}}))
                       .process(200, kStartB, counters({{kShared, 1}})));
  aggregator.on_event(event(CW_EV_EXIT, 100, kStartA, "redis-server"));
  aggregator.on_exit(key(100, kStartA), counters({{kShared, 14}}));
  EXPECT_EQ(comm_copies(aggregator, "redis-server"), 15u);
  EXPECT_EQ(aggregator.tracked_processes(), 1u);
  // A sample read before the entry was deleted must not resurrect or recount it.
  aggregator.apply(SampleBuilder(2 * kSecond)
                       .process(100, kStartA, counters({{kShared, 14}}))
                       .process(200, kStartB, counters({{kShared, 1}})));
  EXPECT_EQ(comm_copies(aggregator, "redis-server"), 15u);
  EXPECT_EQ(aggregator.tracked_processes(), 1u);
  // The final delta shows as activity of the next poll.
  Activity activity = aggregator.last_activity();
  ASSERT_EQ(activity.processes.size(), 1u);
  EXPECT_EQ(activity.processes[0].key.tgid, 100u);
  EXPECT_EQ(copies(activity.processes[0].delta), 4u);
}

TEST_F(AggregatorTest, ExitOfAnUnseenProcessCountsItsFinalCountersUnderItsComm) {
  Aggregator aggregator(tree.options());
  aggregator.on_exit(key(300, kStartC), counters({{kShared, 3}}));  // zombie still in /proc
  EXPECT_EQ(comm_copies(aggregator, "bash"), 3u);
  EXPECT_EQ(aggregator.tracked_processes(), 0u);
}

TEST_F(AggregatorTest, GarbageCollectsVanishedProcessesOnly) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond)
                       .process(100, kStartA, counters({{kShared, 1}}))
                       .process(200, kStartB, counters({{kShared, 1}}))
                       .process(300, kStartC, counters({{kShared, 1}})));
  tree.remove_process(100);                                  // gone
  tree.add_process(200, kStartB + 50 * kSecond, "other");    // pid reused by another process
  // 300 is still alive, merely absent from the kernel map.
  aggregator.apply(SampleBuilder(2 * kSecond));
  EXPECT_EQ(aggregator.tracked_processes(), 3u);  // one absent poll is not enough
  aggregator.apply(SampleBuilder(3 * kSecond));
  EXPECT_EQ(aggregator.tracked_processes(), 1u);
  EXPECT_TRUE(aggregator.query_pid(300).has_value());
  EXPECT_FALSE(aggregator.query_pid(100).has_value());
  EXPECT_EQ(comm_copies(aggregator, "redis-server"), 2u);  // folded, not lost
}

TEST_F(AggregatorTest, PidReuseWithANewStartTimeIsANewProcess) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(100, kStartA, counters({{kShared, 10}})));
  aggregator.on_exit(key(100, kStartA), counters({{kShared, 10}}));
  const uint64_t reused_start = 40 * kSecond;
  tree.add_process(100, reused_start, "redis-server");
  aggregator.apply(SampleBuilder(2 * kSecond).process(100, reused_start, counters({{kShared, 2}})));
  EXPECT_EQ(comm_copies(aggregator, "redis-server"), 12u);
  auto detail = aggregator.query_pid(100);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->row.start_ns, reused_start);
  EXPECT_EQ(copies(detail->row.totals), 2u);
}

TEST_F(AggregatorTest, EvictsTheLeastRecentlyActiveAtTheCapWithoutCountingTwice) {
  AggregatorOptions options = tree.options();
  options.max_processes = 2;
  Aggregator aggregator(options);
  aggregator.apply(SampleBuilder(1 * kSecond)
                       .process(100, kStartA, counters({{kShared, 1}}))
                       .process(200, kStartB, counters({{kShared, 1}})));
  aggregator.apply(SampleBuilder(2 * kSecond)
                       .process(100, kStartA, counters({{kShared, 1}}))
                       .process(200, kStartB, counters({{kShared, 5}})));  // 200 active, 100 idle
  aggregator.apply(SampleBuilder(3 * kSecond)
                       .process(200, kStartB, counters({{kShared, 5}}))
                       .process(300, kStartC, counters({{CW_C_WP_WRITE, 1}})));
  EXPECT_EQ(aggregator.tracked_processes(), 2u);
  EXPECT_FALSE(aggregator.query_pid(100).has_value());
  EXPECT_TRUE(aggregator.query_pid(200).has_value());
  EXPECT_TRUE(aggregator.query_pid(300).has_value());
  EXPECT_EQ(comm_copies(aggregator, "redis-server"), 6u);
  // 100 comes back with the same absolute counters: its past is not counted again.
  aggregator.apply(SampleBuilder(4 * kSecond)
                       .process(100, kStartA, counters({{kShared, 3}}))
                       .process(200, kStartB, counters({{kShared, 6}})));
  EXPECT_EQ(comm_copies(aggregator, "redis-server"), 9u);
  EXPECT_LE(aggregator.tracked_processes(), 2u);
}

TEST_F(AggregatorTest, CommsAndCgroupsBeyondTheCapFoldIntoOther) {
  AggregatorOptions options = tree.options();
  options.max_comms = 1;
  options.max_cgroups = 1;
  Aggregator aggregator(options);
  aggregator.apply(SampleBuilder(1 * kSecond)
                       .process(100, kStartA, counters({{kShared, 10}}))
                       .process(300, kStartC, counters({{kShared, 4}})));
  auto snapshot = aggregator.metrics_snapshot();
  ASSERT_EQ(snapshot->comms.size(), 2u);
  const GroupRow* other = find_row(snapshot->comms, kOtherGroup);
  ASSERT_NE(other, nullptr);
  uint64_t named = 0;
  for (const GroupRow& row : snapshot->comms)
    if (row.name != kOtherGroup) named = copies(row.totals);
  EXPECT_EQ(named + copies(other->totals), 14u);
  EXPECT_EQ(snapshot->cgroups.size(), 2u);
  EXPECT_NE(find_row(snapshot->cgroups, kOtherGroup), nullptr);
}

TEST_F(AggregatorTest, TopKHoldsTheMostActiveProcesses) {
  AggregatorOptions options = tree.options();
  options.top_k_processes = 2;
  Aggregator aggregator(options);
  aggregator.apply(SampleBuilder(1 * kSecond)
                       .process(100, kStartA, counters({{kShared, 1}}))
                       .process(200, kStartB, counters({{kShared, 50}}))
                       .process(300, kStartC, counters({{CW_C_WP_WRITE, 20}})));
  auto snapshot = aggregator.metrics_snapshot();
  ASSERT_EQ(snapshot->top_processes.size(), 2u);
  EXPECT_EQ(snapshot->top_processes[0].pid, 200u);
  EXPECT_EQ(snapshot->top_processes[1].pid, 300u);
}

TEST_F(AggregatorTest, ExportedProcessesGetTheirCommRefreshedAfterExec) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(300, kStartC, counters({{kShared, 1}})));
  EXPECT_EQ(aggregator.metrics_snapshot()->top_processes.at(0).comm, "bash");
  tree.add_process(300, kStartC, "python3", "/user.slice");  // exec: same pid and start time
  aggregator.apply(SampleBuilder(2 * kSecond).process(300, kStartC, counters({{kShared, 3}})));
  EXPECT_EQ(aggregator.metrics_snapshot()->top_processes.at(0).comm, "python3");
}

TEST_F(AggregatorTest, SnapshotIsSharedUntilTheModelChanges) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(100, kStartA, counters({{kShared, 1}})));
  auto first = aggregator.metrics_snapshot();
  EXPECT_EQ(first.get(), aggregator.metrics_snapshot().get());
  aggregator.apply(SampleBuilder(2 * kSecond).process(100, kStartA, counters({{kShared, 2}})));
  EXPECT_NE(first.get(), aggregator.metrics_snapshot().get());
}

}  // namespace
}  // namespace cowwatch::model
