#include "metrics/self_metrics.h"

#include <gtest/gtest.h>

#include "exposition.h"

namespace cowwatch::metrics {
namespace {

using testing::exposition;
using testing::has_line;

ingest::KernelSample sample_with(uint64_t ring_full, uint64_t recursion, uint64_t run_ns, uint64_t runs) {
  ingest::KernelSample sample;
  sample.drops[CW_DROP_RING_FULL] = ring_full;
  sample.programs.push_back({"cw_fexit_do_wp_page", run_ns, runs, recursion});
  sample.processes.resize(3);
  sample.process_map_capacity = 32768;
  return sample;
}

TEST(SelfMetrics, RendersEverySelfMonitoringFamily) {
  SelfMetrics self;
  self.set_build_info({"0.1.0", "abc123", "1.1.2", "6.1.0-18-amd64"});
  probe::ProbePlan plan;
  plan.kernel_release = "6.1.0-18-amd64";
  for (int h = 0; h < CW_HOOK_COUNT; ++h) {
    plan.hooks[h].hook = cw_hook(h);
    plan.hooks[h].strategy = probe::Strategy::kUnavailable;
  }
  plan.hooks[CW_HOOK_WP_FAULT] = {CW_HOOK_WP_FAULT, probe::Strategy::kFentry, "do_wp_page", true, "", {}};
  plan.hooks[CW_HOOK_COW_COPY] = {CW_HOOK_COW_COPY, probe::Strategy::kDerived, "do_wp_page pfn compare",
                                  false, "", {}};
  self.set_probe_plan(plan);
  self.update_from_sample(sample_with(5, 2, 3000000000, 40));
  std::array<uint64_t, CW_EV_TYPE_COUNT> received{};
  received[CW_EV_FORK] = 7;
  self.set_events_received(received);
  self.set_tracked_processes(12);
  self.set_config_reload(true, 1700000000);
  self.set_config_reload(false, 1700000100);
  self.set_vmstat({{"pgreuse", 99}});

  std::string text = exposition(self);
  for (const char* line : {
           "cowwatch_build_info{version=\"0.1.0\",revision=\"abc123\",libbpf_version=\"1.1.2\","
           "kernel=\"6.1.0-18-amd64\"} 1",
           "cowwatch_probe_info{hook=\"wp_fault\",strategy=\"fentry\",target=\"do_wp_page\"} 1",
           "cowwatch_probe_info{hook=\"cow_copy\",strategy=\"derived\",target=\"do_wp_page pfn compare\"} 1",
           "cowwatch_probe_info{hook=\"exit\",strategy=\"unavailable\",target=\"\"} 1",
           "cowwatch_probe_exact{hook=\"wp_fault\"} 1",
           "cowwatch_probe_exact{hook=\"cow_copy\"} 0",
           "cowwatch_events_received_total{type=\"fork\"} 7",
           "cowwatch_events_received_total{type=\"pinned_swap_skip\"} 0",
           "cowwatch_events_dropped_total{cause=\"ring_full\"} 5",
           "cowwatch_events_dropped_total{cause=\"stash_miss\"} 0",
           "cowwatch_events_dropped_total{cause=\"bpf_recursion\"} 2",
           "cowwatch_tracked_processes 12",
           "cowwatch_process_map_entries 3",
           "cowwatch_process_map_capacity 32768",
           "cowwatch_bpf_run_seconds_total{prog=\"cw_fexit_do_wp_page\"} 3",
           "cowwatch_bpf_runs_total{prog=\"cw_fexit_do_wp_page\"} 40",
           "cowwatch_bpf_misses_total{prog=\"cw_fexit_do_wp_page\"} 2",
           "cowwatch_config_last_reload_successful 0",
           "cowwatch_config_last_reload_success_timestamp_seconds 1700000000",
           "cowwatch_selfcheck_vmstat_total{counter=\"pgreuse\"} 99",
       }) {
    EXPECT_TRUE(has_line(text, line)) << line << "\nin:\n" << text;
  }
}

TEST(SelfMetrics, KernelCountersStayMonotonicAcrossAReload) {
  SelfMetrics self;
  self.update_from_sample(sample_with(5, 2, 1000000000, 10));
  self.update_from_sample(sample_with(8, 2, 1500000000, 15));
  self.update_from_sample(sample_with(1, 0, 500000000, 4));  // BPF objects re-created
  std::string text = exposition(self);
  EXPECT_TRUE(has_line(text, "cowwatch_events_dropped_total{cause=\"ring_full\"} 9")) << text;
  EXPECT_TRUE(has_line(text, "cowwatch_events_dropped_total{cause=\"bpf_recursion\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "cowwatch_bpf_runs_total{prog=\"cw_fexit_do_wp_page\"} 19")) << text;
  EXPECT_TRUE(has_line(text, "cowwatch_bpf_run_seconds_total{prog=\"cw_fexit_do_wp_page\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "cowwatch_bpf_misses_total{prog=\"cw_fexit_do_wp_page\"} 2")) << text;
}

}  // namespace
}  // namespace cowwatch::metrics
