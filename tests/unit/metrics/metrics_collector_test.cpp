#include "metrics/metrics_collector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cstdio>
#include <thread>

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
  // 10,000 processes under 400 comms (names from fault records: none of them is in /proc).
  for (uint32_t i = 1; i <= 10000; ++i) {
    std::string comm = "worker-" + std::to_string(i % 400);
    aggregator->on_event(event(CW_EV_FAULT, i + 1000, i * kSecond, comm.c_str()));
  }
  auto sample_at = [](uint64_t poll) {
    SampleBuilder sample(poll * kSecond);
    for (uint32_t i = 1; i <= 10000; ++i)
      sample.process(i + 1000, i * kSecond, counters({{kShared, poll * i}, {CW_C_WP_WRITE, poll * (i % 7)}}));
    return sample;
  };
  aggregator->apply(sample_at(1));
  aggregator->apply(sample_at(2));
  MetricsCollector collector(aggregator);
  std::string text = exposition(collector);
  EXPECT_EQ(count_series(text, "cowwatch_process_cow_copied_bytes_total"), 50u);
  EXPECT_EQ(count_series(text, "cowwatch_process_cow_copies_total"), 50u * CW_REASON_COUNT);
  EXPECT_EQ(count_series(text, "cowwatch_comm_cow_copied_bytes_total"), 400u);
  EXPECT_TRUE(has_line(text,
                       "cowwatch_process_cow_copies_total{pid=\"11000\",comm=\"worker-0\","
                       "cgroup=\"_unknown\",reason=\"shared\"} 20000"));
  EXPECT_EQ(aggregator->tracked_processes(), 10000u);

  // Scrape cost, as a sanity bound only (the target is p99 <= 10 ms). Every scrape follows a
  // poll, so each one rebuilds the snapshot as a real scrape after a poll does.
  std::vector<double> ms, apply_ms;
  for (uint64_t poll = 3; poll < 3 + 40; ++poll) {
    auto sample = sample_at(poll);
    auto apply_begin = std::chrono::steady_clock::now();
    aggregator->apply(sample);
    apply_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - apply_begin).count());
    auto begin = std::chrono::steady_clock::now();
    auto families = collector.Collect();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count());
    ASSERT_FALSE(families.empty());
  }
  EXPECT_EQ(aggregator->tracked_processes(), 10000u);
  std::sort(ms.begin(), ms.end());
  std::sort(apply_ms.begin(), apply_ms.end());
  std::printf("10000 tracked processes, 400 comms, top-K 50: Collect() p50 %.3f ms, max %.3f ms; "
              "apply() p50 %.3f ms\n",
              ms[ms.size() / 2], ms.back(), apply_ms[apply_ms.size() / 2]);
  EXPECT_LT(ms[ms.size() / 2], 1000.0);
}

TEST_F(MetricsCollectorTest, ScrapesDuringPollsSeeMonotonicTotals) {
  auto aggregator = std::make_shared<model::Aggregator>(tree.options());
  MetricsCollector collector(aggregator);
  std::atomic<bool> done{false};
  std::thread feeder([&] {
    for (uint64_t poll = 1; poll <= 2000; ++poll) {
      aggregator->apply(SampleBuilder(poll * kSecond)
                            .host(counters({{kShared, poll}}))
                            .process(100, 1 * kSecond, counters({{kShared, poll}})));
      aggregator->on_event(event(CW_EV_FAULT, 100, 1 * kSecond, "redis-server"));
    }
    done = true;
  });
  double last_host = 0, last_comm = 0;
  size_t scrapes = 0;
  while (!done || scrapes == 0) {
    for (const prometheus::MetricFamily& family : collector.Collect()) {
      for (const prometheus::ClientMetric& metric : family.metric) {
        bool shared = !metric.label.empty() && metric.label.back().value == "shared";
        if (family.name == "cowwatch_cow_copies_total" && shared) {
          EXPECT_GE(metric.counter.value, last_host);
          last_host = metric.counter.value;
        } else if (family.name == "cowwatch_comm_cow_copies_total" && shared) {
          EXPECT_GE(metric.counter.value, last_comm);
          last_comm = metric.counter.value;
        }
      }
    }
    ++scrapes;
  }
  feeder.join();
  auto final_text = exposition(collector);
  EXPECT_TRUE(has_line(final_text, "cowwatch_cow_copies_total{reason=\"shared\"} 2000"));
  EXPECT_TRUE(has_line(final_text,
                       "cowwatch_comm_cow_copies_total{comm=\"redis-server\",reason=\"shared\"} 2000"));
}

}  // namespace
}  // namespace cowwatch::metrics
