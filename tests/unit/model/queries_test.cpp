// The CLI's queries and their JSON shapes (docs/model-json.md).
#include <gtest/gtest.h>

#include "model/aggregator.h"
#include "model/json_views.h"
#include "model_fixtures.h"

namespace cowwatch::model {
namespace {

using namespace testing;

class QueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree.add_process(10, 1 * kSecond, "postgres", "/system.slice/postgresql.service");
    tree.add_process(11, 2 * kSecond, "postgres", "/system.slice/postgresql.service");
    tree.add_process(12, 3 * kSecond, "nginx", "/system.slice/nginx.service");
    aggregator = std::make_unique<Aggregator>(tree.options());
    aggregator->apply(SampleBuilder(1 * kSecond)
                          .process(10, 1 * kSecond, counters({{kShared, 100}}))
                          .process(11, 2 * kSecond, counters({{kShared, 1}}))
                          .process(12, 3 * kSecond, counters({{CW_C_SWAP_ADD, 9}})));
    // Over the next 2 s: 11 copies 40 pages, 10 copies 4.
    aggregator->apply(SampleBuilder(3 * kSecond)
                          .process(10, 1 * kSecond, counters({{kShared, 104}}))
                          .process(11, 2 * kSecond, counters({{kShared, 41}, {CW_C_REUSE_SOLE_REF, 3}}))
                          .process(12, 3 * kSecond, counters({{CW_C_SWAP_ADD, 9}})));
  }
  TempTree tree;
  std::unique_ptr<Aggregator> aggregator;
};

TEST_F(QueriesTest, TopProcessesSortsByRateThenTotal) {
  TopResult result = aggregator->top({SortKey::kCopies, GroupBy::kProcess, 2});
  ASSERT_EQ(result.rows.size(), 2u);
  EXPECT_EQ(result.rows[0].pid, 11u);
  EXPECT_DOUBLE_EQ(result.rows[0].rate_per_s, 20.0);
  EXPECT_EQ(result.rows[1].pid, 10u);
  EXPECT_EQ(result.rows[1].value, 104u);
  nlohmann::json json = to_json(result);
  EXPECT_EQ(json["sort"], "copies");
  EXPECT_EQ(json["by"], "process");
  EXPECT_DOUBLE_EQ(json["interval_s"].get<double>(), 2.0);
  EXPECT_EQ(json["rows"][0]["pid"], 11);
  EXPECT_EQ(json["rows"][0]["comm"], "postgres");
  EXPECT_EQ(json["rows"][0]["cgroup"], "system.slice/postgresql.service");
  EXPECT_EQ(json["rows"][0]["counters"]["cow_copies"]["shared"], 41);
  EXPECT_EQ(json["rows"][0]["counters"]["cow_reuses"]["sole_ref"], 3);
  EXPECT_EQ(json["rows"][0]["counters"]["cow_copied_bytes"], 41 * CW_PAGE_SIZE);
}

TEST_F(QueriesTest, TopByCommAndCgroupCountMembers) {
  TopResult by_comm = aggregator->top({SortKey::kCopiedBytes, GroupBy::kComm, 10});
  ASSERT_EQ(by_comm.rows.size(), 2u);
  EXPECT_EQ(by_comm.rows[0].name, "postgres");
  EXPECT_EQ(by_comm.rows[0].live_processes, 2u);
  EXPECT_EQ(by_comm.rows[0].value, 145u * CW_PAGE_SIZE);
  nlohmann::json json = to_json(by_comm);
  EXPECT_EQ(json["rows"][0]["comm"], "postgres");
  EXPECT_EQ(json["rows"][0]["processes"], 2);

  TopResult by_swap = aggregator->top({SortKey::kSwapAdds, GroupBy::kCgroup, 1});
  ASSERT_EQ(by_swap.rows.size(), 1u);
  EXPECT_EQ(by_swap.rows[0].name, "system.slice/nginx.service");
  EXPECT_EQ(by_swap.rows[0].value, 9u);
  EXPECT_EQ(to_json(by_swap)["rows"][0]["cgroup"], "system.slice/nginx.service");
}

TEST_F(QueriesTest, QueryByPidCommAndCgroup) {
  auto pid = aggregator->query_pid(11);
  ASSERT_TRUE(pid.has_value());
  nlohmann::json pid_json = to_json(*pid);
  EXPECT_EQ(pid_json["scope"], "pid");
  EXPECT_EQ(pid_json["pid"], 11);
  EXPECT_EQ(pid_json["counters"]["cow_copies_total"], 41);
  EXPECT_DOUBLE_EQ(pid_json["rates_per_s"]["copies"].get<double>(), 20.0);
  EXPECT_TRUE(pid_json["fork"]["as_child"].is_null());
  EXPECT_TRUE(pid_json["fork"]["as_parent"].is_array());
  EXPECT_FALSE(aggregator->query_pid(99).has_value());
  auto by_key = aggregator->process({11, 2 * kSecond});
  ASSERT_TRUE(by_key.has_value());
  EXPECT_EQ(by_key->cgroup, "system.slice/postgresql.service");
  EXPECT_FALSE(aggregator->process({11, 3 * kSecond}).has_value());

  auto comm = aggregator->query_comm("postgres");
  ASSERT_TRUE(comm.has_value());
  EXPECT_EQ(comm->live_processes, 2u);
  nlohmann::json comm_json = to_json(*comm);
  EXPECT_EQ(comm_json["scope"], "comm");
  EXPECT_EQ(comm_json["comm"], "postgres");
  EXPECT_EQ(comm_json["counters"]["cow_copies"]["shared"], 145);
  EXPECT_EQ(comm_json["processes"].size(), 2u);
  EXPECT_EQ(comm_json["fork"]["copied_bytes_total"], 0);
  EXPECT_FALSE(aggregator->query_comm("nothing").has_value());

  auto cgroup = aggregator->query_cgroup("/system.slice/nginx.service");
  ASSERT_TRUE(cgroup.has_value());
  nlohmann::json cgroup_json = to_json(*cgroup);
  EXPECT_EQ(cgroup_json["cgroup"], "system.slice/nginx.service");
  EXPECT_EQ(cgroup_json["counters"]["swap_adds"]["unpinned"], 9);
  EXPECT_EQ(cgroup_json["swap_add_events"], 0);
}

TEST_F(QueriesTest, EpisodeJsonShape) {
  aggregator->on_event(fork_event(10, 1 * kSecond, 13, 5 * kSecond, "postgres", 4 * kSecond));
  nlohmann::json json = to_json(aggregator->fork_episodes());
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["parent"]["pid"], 10);
  EXPECT_EQ(json[0]["child"]["pid"], 13);
  EXPECT_EQ(json[0]["parent_comm"], "postgres");
  EXPECT_EQ(json[0]["live"], true);
  EXPECT_TRUE(json[0]["ended_ns"].is_null());
  EXPECT_EQ(json[0]["parent_rss_anon_bytes"], 0);
  EXPECT_EQ(json[0]["copied_bytes"], 0);
}

TEST(ParseNames, RoundTrip) {
  SortKey key;
  EXPECT_TRUE(parse_sort_key("swap_adds", &key));
  EXPECT_EQ(key, SortKey::kSwapAdds);
  EXPECT_FALSE(parse_sort_key("bogus", &key));
  GroupBy group;
  EXPECT_TRUE(parse_group_by("cgroup", &group));
  EXPECT_EQ(group, GroupBy::kCgroup);
}

}  // namespace
}  // namespace cowwatch::model
