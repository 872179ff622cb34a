#include "export/metrics_collector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "exposition.h"
#include "model_fixtures.h"

namespace cowwatch::metrics {
namespace {

using namespace cowwatch::model::testing;
using cowwatch::metrics::testing::count_series;
using cowwatch::metrics::testing::exposition;
using cowwatch::metrics::testing::has_line;

class MetricsCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree.add_process(100, 1 * kSecond, "redis-server", "/system.slice/redis.service", 400);
    tree.add_process(101, 2 * kSecond, "redis-rdb-bgsav", "/system.slice/redis.service");
  }
  TempTree tree;
};

TEST_F(MetricsCollectorTest, HostSeriesExistForEveryLabelValueEvenWhenZero) {
  auto aggregator = std::make_shared<model::Aggregator>(tree.options());
  std::string text = exposition(MetricsCollector(aggregator));
  for (const char* line : {
           "cowwatch_wp_faults_total{kind=\"write\"} 0",
           "cowwatch_wp_faults_total{kind=\"unshare\"} 0",
           "cowwatch_wp_fault_decisions_total{decision=\"shared_mapping\"} 0",
           "cowwatch_wp_faults_remote_total 0",
           "cowwatch_wp_faults_approx_total 0",
           "cowwatch_cow_copies_total{reason=\"extra_ref\"} 0",
           "cowwatch_cow_copies_total{reason=\"large_folio\"} 0",
           "cowwatch_cow_copied_bytes_total 0",
           "cowwatch_cow_reuses_total{path=\"sole_ref\"} 0",
           "cowwatch_gup_unshares_total{result=\"noop\"} 0",
           "cowwatch_swap_adds_total{pinned=\"true\"} 0",
           "cowwatch_pinned_swap_skips_total 0",
           "cowwatch_forks_total{pins=\"longterm\"} 0",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\nin:\n" << text;
  }
  EXPECT_EQ(count_series(text, "cowwatch_cow_copies_total"), size_t(CW_REASON_COUNT));
  EXPECT_TRUE(has_line(text, "# TYPE cowwatch_cow_copies_total counter"));
}

TEST_F(MetricsCollectorTest, RendersHostCgroupCommAndProcessSeries) {
  auto aggregator = std::make_shared<model::Aggregator>(tree.options());
  aggregator->apply(SampleBuilder(1 * kSecond)
                        .host(counters({{kShared, 50}, {CW_C_SWAP_ADD, 3}, {CW_C_SWAP_ADD_PINNED, 1},
                                        {CW_C_FORK, 2}}))
                        .process(100, 1 * kSecond, counters({{kShared, 0}})));
  aggregator->on_event(fork_event(100, 1 * kSecond, 101, 2 * kSecond, "redis-server", 1 * kSecond));
  aggregator->apply(SampleBuilder(2 * kSecond)
                        .host(counters({{kShared, 60}, {CW_C_SWAP_ADD, 3}, {CW_C_SWAP_ADD_PINNED, 1},
                                        {CW_C_FORK, 2}}))
                        .process(100, 1 * kSecond, counters({{kShared, 4}, {CW_C_WP_WRITE, 9}}))
                        .process(101, 2 * kSecond, counters({{kShared, 6}})));
  std::string text = exposition(MetricsCollector(aggregator));
  for (const char* line : {
           "cowwatch_cow_copies_total{reason=\"shared\"} 60",
           "cowwatch_cow_copied_bytes_total 245760",
           "cowwatch_wp_fault_decisions_total{decision=\"copy\"} 60",
           "cowwatch_swap_adds_total{pinned=\"true\"} 1",
           "cowwatch_swap_adds_total{pinned=\"false\"} 2",
           "cowwatch_forks_total{pins=\"none\"} 2",
           "cowwatch_cgroup_cow_copies_total{cgroup=\"system.slice/redis.service\",reason=\"shared\"} 10",
           "cowwatch_cgroup_cow_copied_bytes_total{cgroup=\"system.slice/redis.service\"} 40960",
           "cowwatch_comm_cow_copies_total{comm=\"redis-server\",reason=\"shared\"} 4",
           "cowwatch_comm_cow_copies_total{comm=\"redis-rdb-bgsav\",reason=\"shared\"} 6",
           "cowwatch_comm_wp_faults_total{comm=\"redis-server\",kind=\"write\"} 9",
           "cowwatch_comm_forks_total{comm=\"redis-server\",pins=\"none\"} 0",
           "cowwatch_comm_fork_copied_bytes_total{comm=\"redis-server\"} 40960",
           "cowwatch_process_cow_copies_total{pid=\"100\",comm=\"redis-server\","
           "cgroup=\"system.slice/redis.service\",reason=\"shared\"} 4",
           "cowwatch_process_cow_copied_bytes_total{pid=\"101\",comm=\"redis-rdb-bgsav\","
           "cgroup=\"system.slice/redis.service\"} 24576",
           "cowwatch_process_fork_copied_bytes{pid=\"100\",comm=\"redis-server\","
           "cgroup=\"system.slice/redis.service\"} 40960",
           "cowwatch_process_fork_projected_copy_bytes{pid=\"100\",comm=\"redis-server\","
           "cgroup=\"system.slice/redis.service\"} 409600",
           "# TYPE cowwatch_process_fork_copied_bytes gauge",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\nin:\n" << text;
  }
}

TEST_F(MetricsCollectorTest, TenThousandProcessesEmitOnlyTopKProcessSeries) {
  model::AggregatorOptions options = tree.options();
  options.top_k_processes = 50;
  options.max_comms = 500;
  options.max_cgroups = 500;
  auto aggregator = std::make_shared<model::Aggregator>(options);
  for (uint64_t poll = 1; poll <= 2; ++poll) {
    SampleBuilder sample(poll * kSecond);
    for (uint32_t pid = 1; pid <= 10000; ++pid) {
      sample.process(pid + 1000, pid * kSecond,
                     counters({{kShared, poll * pid}, {CW_C_WP_WRITE, poll * (pid % 7)}}));
    }
    aggregator->apply(sample);
  }
  MetricsCollector collector(aggregator);
  std::string text = exposition(collector);
  EXPECT_EQ(count_series(text, "cowwatch_process_cow_copied_bytes_total"), 50u);
  EXPECT_EQ(count_series(text, "cowwatch_process_cow_copies_total"), 50u * CW_REASON_COUNT);
  EXPECT_TRUE(has_line(text,
                       "cowwatch_process_cow_copies_total{pid=\"11000\",comm=\"_unknown\","
                       "cgroup=\"_unknown\",reason=\"shared\"} 20000"));
  EXPECT_EQ(aggregator->tracked_processes(), 10000u);

  // Scrape cost, as a sanity bound only (the target is p99 <= 10 ms). Each scrape after a poll
  // rebuilds the snapshot, as a real scrape does.
  std::vector<double> ms;
  for (int i = 0; i < 50; ++i) {
    aggregator->apply(SampleBuilder((3 + i) * kSecond));
    auto begin = std::chrono::steady_clock::now();
    auto families = collector.Collect();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count());
    ASSERT_FALSE(families.empty());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("Collect() with 10000 tracked processes, top-K 50: p50 %.3f ms, p99 %.3f ms\n",
              ms[ms.size() / 2], ms[ms.size() * 99 / 100]);
  EXPECT_LT(ms[ms.size() / 2], 1000.0);
}

}  // namespace
}  // namespace cowwatch::metrics
