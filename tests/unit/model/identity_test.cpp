// Identity: cgroup ids resolved through a fake cgroup2 tree, /proc parsing, comm sources.
#include <gtest/gtest.h>

#include <cstring>

#include "model/aggregator.h"
#include "model/cgroup_resolver.h"
#include "model/proc_reader.h"
#include "model_fixtures.h"

namespace cowwatch::model {
namespace {

using namespace testing;

TEST(CgroupResolver, ResolvesIdsToPathsBelowTheRoot) {
  TempTree tree;
  uint64_t redis = tree.add_cgroup("system.slice/redis.service");
  uint64_t slice = tree.add_cgroup("system.slice");
  struct stat st {};
  ::stat(tree.cgroup().c_str(), &st);
  CgroupResolver resolver(tree.cgroup().string());
  EXPECT_EQ(resolver.resolve(redis).value_or(""), "system.slice/redis.service");
  EXPECT_EQ(resolver.resolve(slice).value_or(""), "system.slice");
  EXPECT_EQ(resolver.resolve(st.st_ino).value_or(""), "/");
  EXPECT_EQ(resolver.walks(), 1u);
}

TEST(CgroupResolver, RewalksOnAMissAtMostKWalksPerPollTimesPerPoll) {
  TempTree tree;
  CgroupResolver resolver(tree.cgroup().string());
  for (uint64_t id = 987654321; id < 987654321 + 2 * CgroupResolver::kWalksPerPoll; ++id)
    EXPECT_FALSE(resolver.resolve(id).has_value());
  EXPECT_EQ(resolver.walks(), CgroupResolver::kWalksPerPoll);
  uint64_t created = tree.add_cgroup("machine.slice/vm.scope");
  EXPECT_FALSE(resolver.resolve(created).has_value());  // same poll: the budget is spent
  resolver.new_poll();
  EXPECT_EQ(resolver.resolve(created).value_or(""), "machine.slice/vm.scope");
  EXPECT_EQ(resolver.walks(), CgroupResolver::kWalksPerPoll + 1);
  EXPECT_EQ(resolver.resolve(created).value_or(""), "machine.slice/vm.scope");  // cached
  EXPECT_EQ(resolver.walks(), CgroupResolver::kWalksPerPoll + 1);
}

TEST(CgroupResolver, CgroupsCreatedOneAfterAnotherWithinAPollAreAllResolved) {
  TempTree tree;
  CgroupResolver resolver(tree.cgroup().string());
  uint64_t first = tree.add_cgroup("first");
  EXPECT_EQ(resolver.resolve(first).value_or(""), "first");
  uint64_t second = tree.add_cgroup("second");
  EXPECT_EQ(resolver.resolve(second).value_or(""), "second");
}

TEST(CgroupResolver, AnIdTheLastWalkDidNotFindDoesNotWalkAgainByItself) {
  TempTree tree;
  CgroupResolver resolver(tree.cgroup().string());
  EXPECT_FALSE(resolver.resolve(987654321).has_value());
  for (int poll = 0; poll < 3; ++poll) {
    resolver.new_poll();
    EXPECT_FALSE(resolver.resolve(987654321).has_value());
  }
  EXPECT_EQ(resolver.walks(), 1u);
  uint64_t created = tree.add_cgroup("new.slice");
  resolver.new_poll();
  EXPECT_EQ(resolver.resolve(created).value_or(""), "new.slice");  // a new id still walks
  EXPECT_EQ(resolver.walks(), 2u);
}

TEST(ProcReader, ReadsCommCgroupStartAndRss) {
  TempTree tree;
  const uint64_t start = 7 * kSecond;
  tree.add_process(42, start, "my (odd) name", "/system.slice/x.service", 1234);
  ProcReader reader(tree.proc().string());
  EXPECT_EQ(reader.comm(42).value_or(""), "my (odd) name");
  EXPECT_EQ(reader.cgroup(42).value_or(""), "system.slice/x.service");
  EXPECT_EQ(reader.start_ns(42).value_or(0), start);
  EXPECT_EQ(reader.rss_anon_bytes(42).value_or(0), 1234u * 1024);
  EXPECT_EQ(reader.liveness({42, start}), Liveness::kSame);
  EXPECT_EQ(reader.liveness({42, start + 90 * kSecond}), Liveness::kDifferent);
  EXPECT_EQ(reader.liveness({43, start}), Liveness::kGone);
  EXPECT_FALSE(reader.comm(43).has_value());
}

TEST(ProcReader, AStatWithoutAWholeStartTimeHasNoStart) {
  TempTree tree;
  TempTree::write(tree.proc() / "50" / "stat", "50 (short) S 1 1 1 0 -1\n");      // 20th field missing
  TempTree::write(tree.proc() / "51" / "stat", "51 (x) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12ab 1000\n");
  TempTree::write(tree.proc() / "52" / "stat", "52 (y) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 -5 1000\n");
  ProcReader reader(tree.proc().string());
  EXPECT_FALSE(reader.start_ns(50).has_value());
  EXPECT_FALSE(reader.start_ns(51).has_value());
  EXPECT_FALSE(reader.start_ns(52).has_value());
  EXPECT_EQ(reader.liveness({50, kSecond}), Liveness::kGone);
}

TEST(ProcReader, ParsesCgroupV2LinesOnly) {
  EXPECT_EQ(parse_cgroup_v2_path("0::/\n").value_or(""), "/");
  EXPECT_EQ(parse_cgroup_v2_path("1:name=systemd:/x\n0::/a/b\n").value_or(""), "a/b");
  EXPECT_FALSE(parse_cgroup_v2_path("1:cpu:/a\n").has_value());
}

TEST(ProcReader, ReadsSelfcheckVmstat) {
  TempTree tree;
  TempTree::write(tree.proc() / "vmstat", "nr_free_pages 5\npgreuse 17\npswpout 3\nnr_foll_pin_acquired 9\nnr_foll_pin_released 8\nnr_foll_pin_x 1\n");
  auto vmstat = ProcReader(tree.proc().string()).selfcheck_vmstat();
  EXPECT_EQ(vmstat.size(), 4u);
  EXPECT_EQ(vmstat["pgreuse"], 17u);
  EXPECT_EQ(vmstat["nr_foll_pin_acquired"], 9u);
}

TEST(AggregatorIdentity, FaultRecordsGiveTheOwnersCgroupById) {
  TempTree tree;
  uint64_t id = tree.add_cgroup("system.slice/postgresql.service");
  Aggregator aggregator(tree.options());  // no /proc entry: identity from records only
  cw_event fault = event(CW_EV_FAULT, 77, 9 * kSecond, "postgres");
  fault.cgroup_id = id;
  aggregator.on_event(fault);
  aggregator.apply(SampleBuilder(1 * kSecond).process(77, 9 * kSecond, counters({{kShared, 2}})));
  auto snapshot = aggregator.metrics_snapshot();
  ASSERT_NE(find_row(snapshot->cgroups, "system.slice/postgresql.service"), nullptr);
  ASSERT_NE(find_row(snapshot->comms, "postgres"), nullptr);
}

TEST(AggregatorIdentity, RemoteFaultsDoNotRenameTheOwner) {
  TempTree tree;
  Aggregator aggregator(tree.options());
  cw_event fault = event(CW_EV_FAULT, 77, 9 * kSecond, "io_uring-sq");
  fault.actor_tgid = 78;  // another process faulted on 77's memory
  aggregator.on_event(fault);
  auto detail = aggregator.query_pid(77);
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->row.comm, kUnknownName);
}

TEST(AggregatorIdentity, SwapRecordsAreCountedPerMemcg) {
  TempTree tree;
  uint64_t id = tree.add_cgroup("batch.slice");
  Aggregator aggregator(tree.options());
  cw_event swap = event(CW_EV_SWAP_ADD, 0, 0, "kswapd0");
  swap.aux0 = id;
  aggregator.on_event(swap);
  aggregator.on_event(swap);
  auto detail = aggregator.query_cgroup("/batch.slice");
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->stats.swap_add_events, 2u);
  EXPECT_EQ(aggregator.events_received()[CW_EV_SWAP_ADD], 2u);
}

// Counters as the kernel keeps them: with the process's name at its latest own event.
cw_counters named(cw_counters c, const char* comm) {
  std::strncpy(c.comm, comm, CW_COMM_LEN - 1);
  return c;
}

uint64_t comm_writes(const Aggregator& aggregator, const std::string& comm) {
  const GroupRow* row = find_row(aggregator.metrics_snapshot()->comms, comm);
  return row ? row->totals[kWpWrite] : 0;
}

// A short-lived child whose fork, rename and exit records were lost (or are still unread) and
// that is gone from /proc when first polled: its counts carry the name it had.
TEST(AggregatorIdentity, CountsPolledWithoutAnyRecordOrProcEntryKeepTheirKernelName) {
  TempTree tree;
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(40, 5 * kSecond, named(counters({{kWpWrite, 61}}), "wl_kid_7")));
  EXPECT_EQ(comm_writes(aggregator, "wl_kid_7"), 61u);
  EXPECT_EQ(comm_writes(aggregator, kUnknownName), 0u);
}

// The same child's final counters, flushed at exit (or reaped with its exit record lost).
TEST(AggregatorIdentity, AnExitFlushWithoutRecordsKeepsTheKernelName) {
  TempTree tree;
  Aggregator aggregator(tree.options());
  aggregator.on_exit(key(41, 5 * kSecond), named(counters({{kWpWrite, 62}}), "wl_kid_8"));
  EXPECT_EQ(comm_writes(aggregator, "wl_kid_8"), 62u);
  EXPECT_EQ(comm_writes(aggregator, kUnknownName), 0u);
}

// The fork record read after the sample that already held the renamed child: the inherited name
// it brings does not take the child's later counts.
TEST(AggregatorIdentity, AForkRecordReadAfterTheCountsDoesNotRenameTheChildBack) {
  TempTree tree;
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(42, 5 * kSecond, named(counters({{kWpWrite, 3}}), "wl_kid_9")));
  aggregator.on_event(fork_event(10, 1 * kSecond, 42, 5 * kSecond, "wl_parent", 4 * kSecond));
  aggregator.on_exit(key(42, 5 * kSecond), named(counters({{kWpWrite, 10}}), "wl_kid_9"));
  EXPECT_EQ(comm_writes(aggregator, "wl_kid_9"), 10u);
  EXPECT_EQ(comm_writes(aggregator, "wl_parent"), 0u);
}

// A name change in the kernel counters is a rename (its record may be lost): it replaces a name
// read from /proc before, and later counts go to the new name.
TEST(AggregatorIdentity, ANewKernelNameReplacesOneReadFromProc) {
  TempTree tree;
  tree.add_process(43, 5 * kSecond, "redis-server");
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(43, 5 * kSecond, named(counters({{kWpWrite, 2}}), "redis-server")));
  aggregator.apply(SampleBuilder(2 * kSecond).process(43, 5 * kSecond, named(counters({{kWpWrite, 7}}), "rdb-bgsave")));
  EXPECT_EQ(comm_writes(aggregator, "redis-server"), 2u);
  EXPECT_EQ(comm_writes(aggregator, "rdb-bgsave"), 5u);
}

// The first kernel name yields to a /proc read that follows it: /proc is newer (the process may
// have renamed itself since its last counted event).
TEST(AggregatorIdentity, AProcReadAtFirstSightOutranksTheFirstKernelName) {
  TempTree tree;
  tree.add_process(44, 5 * kSecond, "renamed-since");
  Aggregator aggregator(tree.options());
  aggregator.apply(SampleBuilder(1 * kSecond).process(44, 5 * kSecond, named(counters({{kWpWrite, 2}}), "before")));
  EXPECT_EQ(aggregator.process(ProcKey{44, 5 * kSecond})->comm, "renamed-since");
}

}  // namespace
}  // namespace cowwatch::model
