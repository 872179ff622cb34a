// cgroup attribution: which hierarchy ids are resolved in (v2, hybrid, v1 only), paths kept after
// a cgroup is removed, and counts split exactly at a move (CW_EV_CGROUP_MOVE).
#include <gtest/gtest.h>

#include <cstring>

#include "model/aggregator.h"
#include "model/cgroup_resolver.h"
#include "model_fixtures.h"

namespace cowwatch::model {
namespace {

using namespace testing;

constexpr const char* kHybridMounts =
    "tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
    "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
    "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";

TEST(CgroupHierarchy, AV2RootIsUsedAsConfigured) {
  CgroupHierarchy h = choose_cgroup_hierarchy("/sys/fs/cgroup/", "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n");
  EXPECT_EQ(h.root, "/sys/fs/cgroup");
  EXPECT_FALSE(h.v1_only);
}

TEST(CgroupHierarchy, AHybridHostResolvesInTheUnifiedMountNeverInAV1Controller) {
  CgroupHierarchy h = choose_cgroup_hierarchy("/sys/fs/cgroup", kHybridMounts);
  EXPECT_EQ(h.root, "/sys/fs/cgroup/unified");
  EXPECT_FALSE(h.v1_only);
}

TEST(CgroupHierarchy, ACgroup2MountElsewhereIsUsedWhenTheRootHoldsV1Only) {
  CgroupHierarchy h = choose_cgroup_hierarchy(
      "/sys/fs/cgroup", "tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup2 /run/cg2 cgroup2 rw 0 0\n");
  EXPECT_EQ(h.root, "/run/cg2");
}

TEST(CgroupHierarchy, NoCgroup2MountAtAllIsV1Only) {
  CgroupHierarchy h = choose_cgroup_hierarchy(
      "/sys/fs/cgroup", "tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n");
  EXPECT_TRUE(h.v1_only);
}

TEST(CgroupHierarchy, ADirectoryThatIsNoMountPointIsUsedAsIs) {
  CgroupHierarchy h = choose_cgroup_hierarchy("/tmp/tree/cgroup", kHybridMounts);
  EXPECT_EQ(h.root, "/tmp/tree/cgroup");
  EXPECT_FALSE(h.v1_only);
}

TEST(CgroupResolver, V1OnlyNamesEveryIdV1) {
  TempTree tree;
  TempTree::write(tree.proc() / "mounts", "cgroup " + tree.cgroup().string() + " cgroup rw,cpu 0 0\n");
  CgroupResolver resolver(tree.cgroup().string(), (tree.proc() / "mounts").string());
  EXPECT_EQ(resolver.resolve(1).value_or(""), kCgroupV1Name);
  EXPECT_EQ(resolver.walks(), 0u);
}

TEST(CgroupResolver, KeepsThePathOfARemovedCgroup) {
  TempTree tree;
  uint64_t job = tree.add_cgroup("batch.slice/job-1.scope");
  CgroupResolver resolver(tree.cgroup().string());
  EXPECT_EQ(resolver.resolve(job).value_or(""), "batch.slice/job-1.scope");
  uint64_t next = tree.add_cgroup("batch.slice/job-2.scope");  // first: a test fs reuses inodes
  fs::remove(tree.cgroup() / "batch.slice/job-1.scope");
  resolver.new_poll();
  EXPECT_EQ(resolver.resolve(next).value_or(""), "batch.slice/job-2.scope");  // a walk
  EXPECT_EQ(resolver.walks(), 2u);
  EXPECT_EQ(resolver.resolve(job).value_or(""), "batch.slice/job-1.scope");
}

class CgroupMoveTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kStart = 5 * kSecond;
  void SetUp() override {
    old_id = tree.add_cgroup("old.slice");
    new_id = tree.add_cgroup("new.slice");
    tree.add_process(100, kStart, "worker", "/old.slice");
  }
  static cw_counters copies_in(uint64_t shared, uint64_t cgroup_id) {
    cw_counters c = counters({{kShared, shared}});
    c.cgroup_id = cgroup_id;
    return c;
  }
  cw_event move() const {
    cw_event e = event(CW_EV_CGROUP_MOVE, 100, kStart, "worker");
    e.aux0 = old_id;
    e.cgroup_id = new_id;
    return e;
  }
  uint64_t cgroup_copies(const Aggregator& aggregator, const std::string& path) {
    const GroupRow* row = find_row(aggregator.metrics_snapshot()->cgroups, path);
    return row ? copies(row->totals) : 0;
  }
  TempTree tree;
  uint64_t old_id = 0, new_id = 0;
};

TEST_F(CgroupMoveTest, CountsUpToTheMoveStayWithTheOldCgroupLaterOnesGoToTheNew) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(100, kStart, copies_in(3, old_id)));
  // 2 more copies, then the move, then 7 more, all before the next poll
  const cw_counters at_move = copies_in(5, old_id);
  aggregator.on_cgroup_move(move(), &at_move);
  tree.add_process(100, kStart, "worker", "/new.slice");
  aggregator.apply(SampleBuilder(2 * kSecond).process(100, kStart, copies_in(12, new_id)));
  EXPECT_EQ(cgroup_copies(aggregator, "old.slice"), 5u);
  EXPECT_EQ(cgroup_copies(aggregator, "new.slice"), 7u);
  EXPECT_EQ(aggregator.process({100, kStart})->cgroup, "new.slice");
}

TEST_F(CgroupMoveTest, AProcessFirstSeenAtItsMoveStartsInTheOldCgroupNotWhatProcShowsNow) {
  tree.add_process(100, kStart, "worker", "/new.slice");  // /proc already shows the new one
  Aggregator aggregator(tree.options());
  const cw_counters at_move = copies_in(4, old_id);
  aggregator.on_cgroup_move(move(), &at_move);
  aggregator.apply(SampleBuilder(1 * kSecond).process(100, kStart, copies_in(6, new_id)));
  EXPECT_EQ(cgroup_copies(aggregator, "old.slice"), 4u);
  EXPECT_EQ(cgroup_copies(aggregator, "new.slice"), 2u);
}

TEST_F(CgroupMoveTest, WithoutCountersAtTheMoveTheCountsSinceThePollGoToTheNewCgroup) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(100, kStart, copies_in(3, old_id)));
  aggregator.on_event(move());  // a replayed recording: no kernel map to ask
  aggregator.apply(SampleBuilder(2 * kSecond).process(100, kStart, copies_in(10, new_id)));
  EXPECT_EQ(cgroup_copies(aggregator, "old.slice"), 3u);
  EXPECT_EQ(cgroup_copies(aggregator, "new.slice"), 7u);
  EXPECT_EQ(aggregator.events_received()[CW_EV_CGROUP_MOVE], 1u);
}

// A process the model first meets at its move, already gone from /proc (its fork record lost, the
// move read a poll later): the move record and the counters at the move name it.
TEST_F(CgroupMoveTest, AProcessGoneBeforeItsMoveIsReadIsNamedByTheRecordNotUnknown) {
  Aggregator aggregator(tree.options());
  cw_event e = event(CW_EV_CGROUP_MOVE, 300, kStart, "mover");
  e.aux0 = old_id;
  e.cgroup_id = new_id;
  cw_counters at_move = copies_in(4, old_id);
  aggregator.on_cgroup_move(e, &at_move);
  const GroupRow* mover = find_row(aggregator.metrics_snapshot()->comms, "mover");
  ASSERT_NE(mover, nullptr);
  EXPECT_EQ(copies(mover->totals), 4u);
  EXPECT_EQ(find_row(aggregator.metrics_snapshot()->comms, kUnknownName), nullptr);

  // Without a name in the record (a replay of an old recording), the counters' name is used.
  e = event(CW_EV_CGROUP_MOVE, 301, kStart, "");
  e.aux0 = old_id;
  e.cgroup_id = new_id;
  std::memcpy(at_move.comm, "mover2", 7);
  aggregator.on_cgroup_move(e, &at_move);
  const GroupRow* mover2 = find_row(aggregator.metrics_snapshot()->comms, "mover2");
  ASSERT_NE(mover2, nullptr);
  EXPECT_EQ(copies(mover2->totals), 4u);
  EXPECT_EQ(find_row(aggregator.metrics_snapshot()->comms, kUnknownName), nullptr);
}

TEST_F(CgroupMoveTest, AnExitFlushCountsUnderTheCgroupOfTheFinalCounters) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(100, kStart, copies_in(0, old_id)));
  aggregator.on_exit(key(100, kStart), copies_in(9, new_id));
  EXPECT_EQ(cgroup_copies(aggregator, "old.slice"), 0u);
  EXPECT_EQ(cgroup_copies(aggregator, "new.slice"), 9u);
}

TEST_F(CgroupMoveTest, AMoveIntoACgroupGoneBeforeItWasResolvedIsUnknownNotTheOldOne) {
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(100, kStart, copies_in(3, old_id)));
  cw_event e = move();
  e.cgroup_id = 987654321;  // never in the tree
  aggregator.on_event(e);
  aggregator.apply(SampleBuilder(2 * kSecond).process(100, kStart, copies_in(5, e.cgroup_id)));
  EXPECT_EQ(cgroup_copies(aggregator, "old.slice"), 3u);
  EXPECT_EQ(cgroup_copies(aggregator, kUnknownName), 2u);
}

}  // namespace
}  // namespace cowwatch::model
