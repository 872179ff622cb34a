// Fork episodes: child and parent shared copies while the child lives, the end at the child's
// exit, per-comm totals, and the projection bounded by the parent's anon RSS at fork.
#include <gtest/gtest.h>

#include <cmath>

#include "model/aggregator.h"
#include "model/fork_episodes.h"
#include "model_fixtures.h"

namespace cowwatch::model {
namespace {

using namespace testing;

constexpr uint32_t kParent = 1000, kChild = 1001;
constexpr uint64_t kParentStart = 5 * kSecond, kChildStart = 60 * kSecond;
constexpr uint64_t kPage = CW_PAGE_SIZE;

class ForkAttributionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree.add_process(kParent, kParentStart, "redis-server", "/system.slice/redis.service",
                     /*rss_anon_kib=*/400);  // 100 pages
    tree.add_process(kChild, kChildStart, "redis-rdb-bgsave", "/system.slice/redis.service");
  }
  uint64_t comm_fork_bytes(const Aggregator& aggregator, const std::string& comm) {
    const GroupRow* row = find_row(aggregator.metrics_snapshot()->comms, comm);
    return row ? row->fork_copied_bytes : 0;
  }
  TempTree tree;
};

TEST_F(ForkAttributionTest, ChargesChildAndParentSharedCopiesWhileTheChildLives) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(kParent, kParentStart, counters({{kShared, 7}})));
  aggregator.on_event(fork_event(kParent, kParentStart, kChild, kChildStart, "redis-server", 1 * kSecond));
  aggregator.apply(SampleBuilder(2 * kSecond)
                       .process(kParent, kParentStart,
                                counters({{kShared, 7 + 5}, {int(CW_C_COPY_FIRST) + CW_REASON_ZERO_PAGE, 9}}))
                       .process(kChild, kChildStart, counters({{kShared, 10}})));

  auto episodes = aggregator.fork_episodes();
  ASSERT_EQ(episodes.size(), 1u);
  const ForkEpisode& episode = episodes[0].episode;
  EXPECT_EQ(episode.parent.tgid, kParent);
  EXPECT_EQ(episode.child.tgid, kChild);
  EXPECT_EQ(episode.child_copied_bytes, 10 * kPage);
  EXPECT_EQ(episode.parent_copied_bytes, 5 * kPage);  // only shared copies after the fork
  EXPECT_EQ(episode.copied_bytes(), 15 * kPage);
  EXPECT_EQ(episode.parent_rss_anon_bytes.value_or(0), 400u * 1024);
  EXPECT_EQ(comm_fork_bytes(aggregator, "redis-server"), 15 * kPage);

  auto snapshot = aggregator.metrics_snapshot();
  bool parent_exported = false;
  for (const ProcessRow& row : snapshot->top_processes) {
    if (row.pid != kParent) continue;
    parent_exported = true;
    EXPECT_EQ(row.fork_copied_bytes, 15 * kPage);
  }
  EXPECT_TRUE(parent_exported);

  // The child exits: its final copies count, then the episode ends and parent copies stop.
  aggregator.on_event(event(CW_EV_EXIT, kChild, kChildStart, "redis-rdb-bgsave"));
  aggregator.on_exit(key(kChild, kChildStart), counters({{kShared, 12}}));
  EXPECT_TRUE(aggregator.fork_episodes().empty());
  EXPECT_EQ(comm_fork_bytes(aggregator, "redis-server"), 17 * kPage);
  aggregator.apply(SampleBuilder(3 * kSecond).process(kParent, kParentStart, counters({{kShared, 30}})));
  EXPECT_EQ(comm_fork_bytes(aggregator, "redis-server"), 17 * kPage);
  auto ended = aggregator.fork_episodes(/*include_recently_ended=*/true);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_FALSE(ended[0].episode.live);
  EXPECT_EQ(ended[0].episode.copied_bytes(), 17 * kPage);
}

TEST_F(ForkAttributionTest, ParentCopiesGoToItsNewestLiveEpisode) {
  Aggregator aggregator(tree.options());
  const uint32_t kSecondChild = 1002;
  const uint64_t kSecondStart = 61 * kSecond;
  tree.add_process(kSecondChild, kSecondStart, "redis-server");
  aggregator.apply(SampleBuilder(1 * kSecond).process(kParent, kParentStart, counters({})));
  aggregator.on_event(fork_event(kParent, kParentStart, kChild, kChildStart, "redis-server", 1 * kSecond));
  aggregator.on_event(fork_event(kParent, kParentStart, kSecondChild, kSecondStart, "redis-server", 1 * kSecond));
  aggregator.apply(SampleBuilder(2 * kSecond).process(kParent, kParentStart, counters({{kShared, 4}})));
  auto episodes = aggregator.fork_episodes();
  ASSERT_EQ(episodes.size(), 2u);
  EXPECT_EQ(episodes[0].episode.parent_copied_bytes, 0u);
  EXPECT_EQ(episodes[1].episode.child.tgid, kSecondChild);
  EXPECT_EQ(episodes[1].episode.parent_copied_bytes, 4 * kPage);
}

TEST_F(ForkAttributionTest, ProjectionFollowsTheRateAndIsBoundedByAnonRssAtFork) {
  AggregatorOptions options = tree.options();
  options.fork_projection_horizon_s = 10;
  Aggregator aggregator(options);
  aggregator.apply(SampleBuilder(1 * kSecond).process(kParent, kParentStart, counters({})));
  aggregator.on_event(fork_event(kParent, kParentStart, kChild, kChildStart, "redis-server", 1 * kSecond));
  // 2 pages in one second: projection = 2 pages + 2 pages/s x 10 s = 22 pages (< 100 of RSS).
  aggregator.apply(SampleBuilder(2 * kSecond).process(kChild, kChildStart, counters({{kShared, 2}})));
  auto episodes = aggregator.fork_episodes();
  ASSERT_EQ(episodes.size(), 1u);
  EXPECT_DOUBLE_EQ(episodes[0].episode.rate_bytes_per_s, 2.0 * kPage);
  EXPECT_EQ(episodes[0].projected_bytes, 22 * kPage);
  // 40 pages in the next second: 42 + rate x 10 s is far above 100 pages: bounded by the RSS.
  aggregator.apply(SampleBuilder(3 * kSecond).process(kChild, kChildStart, counters({{kShared, 42}})));
  episodes = aggregator.fork_episodes();
  EXPECT_EQ(episodes[0].episode.copied_bytes(), 42 * kPage);
  EXPECT_EQ(episodes[0].projected_bytes, 100 * kPage);
  auto snapshot = aggregator.metrics_snapshot();
  for (const ProcessRow& row : snapshot->top_processes) {
    if (row.pid == kParent) {
      EXPECT_EQ(row.fork_projected_bytes, 100 * kPage);
    }
  }
}

TEST_F(ForkAttributionTest, EpisodeEndsWhenTheChildVanishesWithoutAnExitRecord) {
  Aggregator aggregator(tree.options());
  aggregator.on_event(fork_event(kParent, kParentStart, kChild, kChildStart, "redis-server", 1 * kSecond));
  tree.remove_process(kChild);
  for (uint64_t t = 1; t <= 3; ++t)
    aggregator.apply(SampleBuilder(t * kSecond).process(kParent, kParentStart, counters({})));
  EXPECT_TRUE(aggregator.fork_episodes().empty());
}

// fork + exec (a shell starting a program, posix_spawn): the child no longer shares anything.
TEST_F(ForkAttributionTest, ChildExecEndsTheEpisodeAndRenamesTheChild) {
  Aggregator aggregator(tree.options());
  aggregator.on_event(fork_event(kParent, kParentStart, kChild, kChildStart, "redis-server", 1 * kSecond));
  aggregator.apply(SampleBuilder(2 * kSecond)
                       .process(kParent, kParentStart, counters({{kShared, 1}}))
                       .process(kChild, kChildStart, counters({{kShared, 2}})));
  ASSERT_EQ(aggregator.fork_episodes().size(), 1u);
  cw_event exec = event(CW_EV_EXEC, kChild, kChildStart, "gzip");
  exec.ts_ns = 3 * kSecond;
  aggregator.on_event(exec);
  tree.add_process(kChild, kChildStart, "gzip", "/system.slice/redis.service");  // /proc agrees now
  EXPECT_TRUE(aggregator.fork_episodes().empty());
  auto ended = aggregator.fork_episodes(/*include_recently_ended=*/true);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].episode.ended_ns, 3 * kSecond);
  EXPECT_EQ(ended[0].episode.copied_bytes(), 3 * kPage);
  // Later copies by either side are no longer fork copies.
  aggregator.apply(SampleBuilder(4 * kSecond)
                       .process(kParent, kParentStart, counters({{kShared, 9}}))
                       .process(kChild, kChildStart, counters({{kShared, 9}})));
  EXPECT_EQ(comm_fork_bytes(aggregator, "redis-server"), 3 * kPage);
  auto child = aggregator.process(ProcKey{kChild, kChildStart});
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(child->comm, "gzip");
}

// prctl(PR_SET_NAME) right after fork, after the daemon read the inherited name from /proc:
// the rename record wins, and counts polled afterwards go to the new name.
TEST_F(ForkAttributionTest, RenameRecordReplacesANameReadEarlierFromProc) {
  Aggregator aggregator(tree.options());
  tree.add_process(kChild, kChildStart, "redis-server", "/system.slice/redis.service");  // not renamed yet
  aggregator.on_event(fork_event(kParent, kParentStart, kChild, kChildStart, "redis-server", 1 * kSecond));
  aggregator.apply(SampleBuilder(2 * kSecond).process(kChild, kChildStart, counters({})));
  ASSERT_EQ(aggregator.process(ProcKey{kChild, kChildStart})->comm, "redis-server");
  aggregator.on_event(event(CW_EV_RENAME, kChild, kChildStart, "rdb-bgsave"));
  tree.add_process(kChild, kChildStart, "rdb-bgsave", "/system.slice/redis.service");
  aggregator.apply(SampleBuilder(3 * kSecond).process(kChild, kChildStart, counters({{kShared, 4}})));
  EXPECT_EQ(aggregator.process(ProcKey{kChild, kChildStart})->comm, "rdb-bgsave");
  const GroupRow* row = find_row(aggregator.metrics_snapshot()->comms, "rdb-bgsave");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->totals[copy_tally(CW_REASON_SHARED)], 4u);
}

TEST_F(ForkAttributionTest, ParentExecEndsEveryEpisodeItStarted) {
  Aggregator aggregator(tree.options());
  aggregator.on_event(fork_event(kParent, kParentStart, kChild, kChildStart, "redis-server", 1 * kSecond));
  aggregator.on_event(fork_event(kParent, kParentStart, kChild + 1, kChildStart + 1, "redis-server", 1 * kSecond));
  ASSERT_EQ(aggregator.fork_episodes().size(), 2u);
  aggregator.on_event(event(CW_EV_EXEC, kParent, kParentStart, "redis-check"));
  EXPECT_TRUE(aggregator.fork_episodes().empty());
  EXPECT_EQ(aggregator.fork_episodes(/*include_recently_ended=*/true).size(), 2u);
}

// Found by the long fuzz_records campaign (docs/reliability.md): counters near 2^64 made the
// projection a double above 2^64, converted to uint64_t (undefined behaviour under UBSan).
TEST(ForkEpisodeProjection, SaturatesInsteadOfConvertingOutOfRange) {
  ForkEpisode episode;
  episode.child_copied_bytes = UINT64_MAX / 2;
  episode.rate_bytes_per_s = 4.2e19;
  EXPECT_EQ(episode.projected_bytes(10.0), UINT64_MAX);
  episode.parent_rss_anon_bytes = 1ull << 40;  // bounded by the RSS, never below what was copied
  EXPECT_EQ(episode.projected_bytes(10.0), UINT64_MAX / 2);
  episode.parent_rss_anon_bytes.reset();
  episode.rate_bytes_per_s = 0;
  EXPECT_EQ(episode.projected_bytes(INFINITY), UINT64_MAX / 2);  // 0 x inf is NaN: what was copied
}

}  // namespace
}  // namespace cowwatch::model
