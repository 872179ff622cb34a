// `cowwatch run`: the tree by identity (tgid, start time), names, and the per-process report.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "cli/run_report.h"
#include "cli/run_tree.h"

namespace cowwatch::cli {
namespace {

using model::ProcKey;

constexpr uint32_t kRoot = 350;
constexpr uint64_t kForkedAfter = 1000;

cw_event record(cw_event_type type, uint32_t tgid, uint64_t start_ns, const char* comm) {
  cw_event e{};
  e.type = uint8_t(type);
  e.tgid = e.pid = e.actor_tgid = tgid;
  e.start_ns = start_ns;
  std::strncpy(e.comm, comm, CW_COMM_LEN - 1);
  return e;
}

cw_event fork_record(uint32_t parent, uint64_t parent_start, uint32_t child, uint64_t child_start,
                     const char* comm) {
  cw_event e = record(CW_EV_FORK, parent, parent_start, comm);
  e.aux2 = child;
  e.aux0 = child_start;
  return e;
}

cw_counters writes(uint64_t n, const char* comm = "") {
  cw_counters c{};
  c.c[CW_C_WP_WRITE] = n;
  c.c[int(CW_C_COPY_FIRST) + CW_REASON_SHARED] = n;
  std::strncpy(c.comm, comm, CW_COMM_LEN - 1);
  return c;
}

// run forked the command (pid kRoot); its fork record names the root.
RunTree started_tree() {
  RunTree tree(kRoot, kForkedAfter);
  EXPECT_TRUE(tree.on_event(fork_record(77, 10, kRoot, 2000, "cowwatch")));
  return tree;
}

TEST(RunTree, TheRootIsTheCommandsPidStartedAfterTheFork) {
  RunTree tree(kRoot, kForkedAfter);
  EXPECT_FALSE(tree.contains(ProcKey{kRoot, 500}));  // an earlier process with that pid
  EXPECT_FALSE(tree.on_event(record(CW_EV_EXIT, kRoot, 500, "old")));
  EXPECT_TRUE(tree.contains(ProcKey{kRoot, 2000}));
  EXPECT_FALSE(tree.contains(ProcKey{kRoot, 9000}));  // known: a later one is someone else
  EXPECT_EQ(tree.size(), 1u);
}

// 300 children while pids wrap: a pid used twice is two members; counted by identity.
TEST(RunTree, ChildrenThatReuseEachOthersPidsAreEachAMember) {
  RunTree tree = started_tree();
  for (uint64_t i = 0; i < 300; ++i) {
    uint32_t pid = 300 + uint32_t(i % 100);  // pids wrap every 100 children
    EXPECT_TRUE(tree.on_event(fork_record(kRoot, 2000, pid, 3000 + i, "cwwl")));
    EXPECT_TRUE(tree.on_event(record(CW_EV_EXIT, pid, 3000 + i, "wl_sl_kid")));
  }
  EXPECT_EQ(tree.size(), 301u);
}

// An unrelated process that got a dead member's pid is not in the tree, nor are its counts.
TEST(RunTree, AnUnrelatedProcessReusingAMembersPidIsNotAMember) {
  RunTree tree = started_tree();
  tree.on_event(fork_record(kRoot, 2000, 351, 2500, "sh"));
  tree.on_counters(ProcKey{351, 2500}, writes(5), true);
  EXPECT_FALSE(tree.on_event(record(CW_EV_RENAME, 351, 7000, "intruder")));
  EXPECT_FALSE(tree.on_event(fork_record(351, 7000, 352, 7100, "intruder")));
  tree.on_counters(ProcKey{351, 7000}, writes(1000), false);
  EXPECT_EQ(tree.size(), 2u);
  EXPECT_EQ(tree.totals().c[CW_C_WP_WRITE], 5u);
}

TEST(RunTree, GrandchildrenJoinThroughTheirParent) {
  RunTree tree = started_tree();
  tree.on_event(fork_record(kRoot, 2000, 360, 2100, "make"));
  EXPECT_TRUE(tree.on_event(fork_record(360, 2100, 361, 2200, "make")));
  EXPECT_EQ(tree.members().at(ProcKey{361, 2200}).parent, (ProcKey{360, 2100}));
}

// Inherited at fork; the kernel's name in the counters and the exit record rename it.
TEST(RunTree, NamesFollowTheKernelNotTheInheritedName) {
  RunTree tree = started_tree();
  tree.on_event(fork_record(kRoot, 2000, 370, 2100, "wl_sl_parent"));
  EXPECT_EQ(tree.members().at(ProcKey{370, 2100}).comm, "wl_sl_parent");
  tree.on_counters(ProcKey{370, 2100}, writes(3, "wl_sl_kid"), false);
  EXPECT_EQ(tree.members().at(ProcKey{370, 2100}).comm, "wl_sl_kid");
  tree.on_event(record(CW_EV_EXEC, 370, 2100, "gzip"));
  tree.on_counters(ProcKey{370, 2100}, writes(4, "wl_sl_kid"), false);  // stale: unchanged since
  EXPECT_EQ(tree.members().at(ProcKey{370, 2100}).comm, "gzip");
}

TEST(RunTree, FinalCountersAreKept) {
  RunTree tree = started_tree();
  tree.on_event(fork_record(kRoot, 2000, 380, 2100, "a"));
  tree.on_counters(ProcKey{380, 2100}, writes(7), true);
  tree.on_counters(ProcKey{380, 2100}, writes(1), false);  // a late entry for the flushed process
  EXPECT_TRUE(tree.members().at(ProcKey{380, 2100}).exited);
  EXPECT_EQ(tree.totals().c[CW_C_WP_WRITE], 7u);
}

// The JSON rows and the text table (golden), top N and --all.
TEST(RunReport, RowsAndTable) {
  RunTree tree = started_tree();
  tree.on_counters(ProcKey{kRoot, 2000}, writes(2, "cwwl"), false);
  for (uint32_t i = 0; i < 4; ++i) {
    tree.on_event(fork_record(kRoot, 2000, 390 + i, 1'000'002'000 + i * 1'000'000, "cwwl"));
    tree.on_counters(ProcKey{390 + i, 1'000'002'000 + i * 1'000'000}, writes(10 * (i + 1), "kid"), true);
  }
  tree.members().at(ProcKey{391, 1'001'002'000}).cgroup = "batch.slice";
  ForkCosts costs{{ProcKey{kRoot, 2000}, 40960}};
  nlohmann::json rows = process_rows_json(tree, costs);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0]["pid"], kRoot);
  EXPECT_EQ(rows[0]["fork_copied_bytes"], 40960);
  EXPECT_EQ(rows[2]["parent_pid"], kRoot);
  EXPECT_EQ(rows[2]["comm"], "kid");
  EXPECT_EQ(rows[2]["cgroup"], "batch.slice");
  EXPECT_EQ(rows[2]["exited"], true);
  EXPECT_EQ(rows[2]["counters"]["cow_copies"]["shared"], 20);

  nlohmann::json report = {{"command_line", "cwwl short_lived"}, {"pid", kRoot}, {"exit_status", 0},
                           {"duration_s", 2.0},   {"processes", tree.size()},
                           {"counters", rows[0]["counters"]}, {"per_process", rows},
                           {"anomalies", nlohmann::json::array()}, {"alerts", nlohmann::json::object()},
                           {"probe_warnings", nlohmann::json::array()}};
  std::string top2 = render_run_report(report, 2, false);
  std::string all = render_run_report(report, 2, true);
  const std::string path = std::string(COWWATCH_GOLDEN_DIR) + "/run_report_top2.txt";
  if (std::getenv("COWWATCH_UPDATE_GOLDEN")) std::ofstream(path) << top2 << "----- --all\n" << all;
  std::ifstream in(path);
  std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(top2 + "----- --all\n" + all, golden);
}

}  // namespace
}  // namespace cowwatch::cli
