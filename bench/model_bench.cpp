// Aggregation and exposition benchmarks (Google Benchmark), issue 8 §3:
//   records/s through Aggregator::on_event, Aggregator::apply with 10,000 processes,
//   MetricsCollector::Collect + text serialization p50/p99 with 10,000 processes and top-K 50,
//   and the model's memory per tracked process (measured first, in a fresh process).
// The model runs with /proc and cgroupfs reads disabled (synthetic pids do not exist), so the
// figures are the model's own cost; see docs/performance.md.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include <benchmark/benchmark.h>
#include <prometheus/text_serializer.h>

#include "metrics/metrics_collector.h"
#include "model/aggregator.h"
#include "util/stats.h"
#include "util/system.h"

namespace {

using cowwatch::model::Aggregator;
using cowwatch::model::AggregatorOptions;
namespace bench = cowwatch::bench;

constexpr uint32_t kTgidBase = 100000;
constexpr size_t kDistinctComms = 200;
constexpr int kCopyShared = int(CW_C_COPY_FIRST) + int(CW_REASON_SHARED);

AggregatorOptions model_options(size_t top_k) {
  AggregatorOptions o;
  o.proc_root = "/nonexistent/proc";
  o.cgroup_root = "/nonexistent/cgroup";
  o.top_k_processes = top_k;
  return o;
}

cw_event fault_event(uint32_t index) {
  cw_event e{};
  e.type = CW_EV_FAULT;
  e.hook = CW_HOOK_WP_FAULT;
  e.tgid = kTgidBase + index;
  e.pid = e.tgid;
  e.actor_tgid = e.tgid;
  e.start_ns = 1000000ull * (index + 1);
  e.decision = CW_DECISION_COPY;
  e.reason = CW_REASON_SHARED;
  e.fault_flags = CW_FF_WRITE;
  std::snprintf(e.comm, sizeof(e.comm), "worker-%zu", size_t(index % kDistinctComms));
  return e;
}

// One poll's worth of absolute counters for `nprocs` processes; `poll` makes them grow.
cowwatch::ingest::KernelSample sample_for(size_t nprocs, uint64_t poll) {
  cowwatch::ingest::KernelSample s;
  s.mono_ns = (poll + 1) * 1000000000ull;
  s.process_map_capacity = 32768;
  s.processes.reserve(nprocs);
  for (size_t i = 0; i < nprocs; i++) {
    cowwatch::ingest::ProcessCounters p{};
    p.key = {uint32_t(kTgidBase + i), 0, 1000000ull * (i + 1)};
    uint64_t grow = (poll + 1) * (1 + i % 7);
    p.counters.c[CW_C_WP_WRITE] = 3 * grow;
    p.counters.c[kCopyShared] = 2 * grow;
    p.counters.c[CW_C_REUSE_EXCLUSIVE] = grow;
    s.host.c[CW_C_WP_WRITE] += 3 * grow;
    s.host.c[kCopyShared] += 2 * grow;
    s.host.c[CW_C_REUSE_EXCLUSIVE] += grow;
    s.processes.push_back(p);
  }
  return s;
}

// An aggregator tracking `nprocs` processes with names (one event each) and one applied poll.
std::shared_ptr<Aggregator> populated(size_t nprocs, size_t top_k) {
  auto agg = std::make_shared<Aggregator>(model_options(top_k));
  for (size_t i = 0; i < nprocs; i++) agg->on_event(fault_event(uint32_t(i)));
  agg->apply(sample_for(nprocs, 0));
  return agg;
}

std::string scrape(const cowwatch::metrics::MetricsCollector& collector) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, collector.Collect());
  return out.str();
}

// records/s through Aggregator::on_event: fault records for range(0) distinct processes.
void BM_AggregatorOnEvent(benchmark::State& state) {
  const size_t nprocs = size_t(state.range(0));
  Aggregator agg(model_options(20));
  std::vector<cw_event> events;
  for (size_t i = 0; i < 65536; i++) events.push_back(fault_event(uint32_t(i % nprocs)));
  for (const auto& e : events) agg.on_event(e);  // warm: every process tracked
  size_t next = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1024; i++) agg.on_event(events[(next + size_t(i)) & 65535]);
    next += 1024;
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 1024);
}
BENCHMARK(BM_AggregatorOnEvent)->Arg(16)->Arg(1000)->Arg(10000);

// The daemon's path: runs of 256 ordinary fault records per Aggregator::on_events (one lock each,
// daemon/app/serve.cpp), over the same records as BM_AggregatorOnEvent.
void BM_AggregatorOnEvents256(benchmark::State& state) {
  const size_t nprocs = size_t(state.range(0));
  Aggregator agg(model_options(20));
  std::vector<cw_event> events;
  for (size_t i = 0; i < 65536; i++) events.push_back(fault_event(uint32_t(i % nprocs)));
  agg.on_events(events.data(), events.size());  // warm: every process tracked
  size_t next = 0;
  for (auto _ : state) {
    for (int i = 0; i < 4; i++) agg.on_events(events.data() + ((next + size_t(i) * 256) & 65535), 256);
    next += 1024;
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 1024);
}
BENCHMARK(BM_AggregatorOnEvents256)->Arg(16)->Arg(1000)->Arg(10000);

// One poll: Aggregator::apply with range(0) processes whose counters all moved.
void BM_AggregatorApply(benchmark::State& state) {
  const size_t nprocs = size_t(state.range(0));
  auto agg = populated(nprocs, 50);
  std::vector<cowwatch::ingest::KernelSample> samples;
  for (uint64_t p = 1; p <= 64; p++) samples.push_back(sample_for(nprocs, p));
  uint64_t poll = 0;
  for (auto _ : state) {
    if (poll == samples.size()) {  // counters must keep growing: rebuild further polls untimed
      state.PauseTiming();
      for (auto& s : samples) s = sample_for(nprocs, poll + 1 + (&s - samples.data()));
      state.ResumeTiming();
      poll = 0;
    }
    agg->apply(samples[poll++]);
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(nprocs));
}
BENCHMARK(BM_AggregatorApply)->Arg(10000)->Unit(benchmark::kMillisecond);

// /metrics body: MetricsCollector::Collect + TextSerializer with range(0) processes and top-K 50.
// after_poll=1: every scrape follows a poll (the snapshot is rebuilt: the worst case);
// after_poll=0: the snapshot is shared. Reports p50/p99 in ms as counters.
void BM_MetricsScrape(benchmark::State& state) {
  const size_t nprocs = size_t(state.range(0));
  const bool after_poll = state.range(1) != 0;
  auto agg = populated(nprocs, 50);
  cowwatch::metrics::MetricsCollector collector(agg);
  std::vector<double> ms;
  uint64_t poll = 1;
  size_t bytes = 0;
  for (auto _ : state) {
    if (after_poll) {
      state.PauseTiming();
      agg->apply(sample_for(nprocs, poll++));
      state.ResumeTiming();
    }
    auto t0 = std::chrono::steady_clock::now();
    std::string body = scrape(collector);
    auto t1 = std::chrono::steady_clock::now();
    bytes = body.size();
    ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    benchmark::DoNotOptimize(body);
  }
  state.counters["p50_ms"] = bench::quantile(ms, 0.50);
  state.counters["p99_ms"] = bench::quantile(ms, 0.99);
  state.counters["body_KiB"] = double(bytes) / 1024;
}
BENCHMARK(BM_MetricsScrape)->Args({10000, 1})->Args({10000, 0})->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

// Model memory per tracked process, measured before any benchmark ran (a fresh heap).
struct MemoryFigure {
  double rss_before_mib = 0, rss_after_mib = 0, heap_bytes_per_process = 0, rss_bytes_per_process = 0;
  size_t tracked = 0;
};

MemoryFigure measure_memory(size_t nprocs) {
  MemoryFigure m;
  malloc_trim(0);
  m.rss_before_mib = double(bench::rss_bytes()) / (1 << 20);
  size_t heap0 = mallinfo2().uordblks;
  uint64_t rss0 = bench::rss_bytes();
  auto agg = populated(nprocs, 50);
  agg->apply(sample_for(nprocs, 1));
  cowwatch::metrics::MetricsCollector collector(agg);
  std::string body = scrape(collector);  // the snapshot is part of the steady state
  m.tracked = agg->tracked_processes();
  m.heap_bytes_per_process = double(mallinfo2().uordblks - heap0) / double(nprocs);
  uint64_t rss1 = bench::rss_bytes();
  m.rss_after_mib = double(rss1) / (1 << 20);
  m.rss_bytes_per_process = double(rss1 - rss0) / double(nprocs);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("machine: %s\n", bench::machine_description().c_str());
  MemoryFigure m = measure_memory(10000);
  std::printf("model memory, %zu tracked processes (with names, one poll, one /metrics snapshot):\n"
              "  RSS %.1f MiB -> %.1f MiB: %.0f B per process (RSS), %.0f B per process (heap in use)\n",
              m.tracked, m.rss_before_mib, m.rss_after_mib, m.rss_bytes_per_process,
              m.heap_bytes_per_process);
  std::fflush(stdout);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
