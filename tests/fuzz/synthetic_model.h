// A small, deterministic model for fuzz targets that need a populated backend: an Aggregator
// that never reads /proc or cgroupfs, fed with a few forks, faults, an exit and two samples, the
// way the daemon's loop feeds it from the kernel.
#pragma once

#include <cstring>
#include <memory>

#include "cowwatch.h"
#include "ingest/kernel_sample.h"
#include "model/aggregator.h"
#include "probe/plan.h"

namespace cowwatch::fuzz {

inline model::AggregatorOptions offline_options() {
  model::AggregatorOptions o;
  o.max_processes = 64;
  o.max_comms = 8;
  o.max_cgroups = 8;
  o.top_k_processes = 4;
  o.proc_root = "/nonexistent-cowwatch-fuzz/proc";
  o.cgroup_root = "/nonexistent-cowwatch-fuzz/cgroup";
  return o;
}

inline cw_event synthetic_event(uint8_t type, uint32_t tgid, uint64_t start_ns, const char* comm) {
  cw_event e{};
  e.type = type;
  e.hook = type == CW_EV_FORK ? CW_HOOK_FORK : type == CW_EV_EXIT ? CW_HOOK_EXIT : CW_HOOK_WP_FAULT;
  e.tgid = tgid;
  e.pid = tgid;
  e.actor_tgid = tgid;
  e.start_ns = start_ns;
  e.ts_ns = start_ns + 1000;
  e.reason = CW_REASON_COUNT;
  std::strncpy(e.comm, comm, CW_COMM_LEN - 1);
  return e;
}

inline ingest::KernelSample synthetic_sample(uint64_t mono_ns, uint64_t scale) {
  ingest::KernelSample s;
  s.mono_ns = mono_ns;
  s.process_map_capacity = 64;
  for (uint32_t tgid = 100; tgid < 104; ++tgid) {
    ingest::ProcessCounters pc{};
    pc.key = {tgid, 0, tgid * 1000ull};
    pc.counters.c[CW_C_WP_WRITE] = 10 * scale * tgid;
    pc.counters.c[int(CW_C_COPY_FIRST) + int(CW_REASON_SHARED)] = 3 * scale;
    pc.counters.c[CW_C_REUSE_EXCLUSIVE] = 2 * scale;
    pc.counters.c[CW_C_FORK] = scale;
    for (int i = 0; i < CW_C_COUNT; ++i) s.host.c[i] += pc.counters.c[i];
    s.processes.push_back(pc);
  }
  s.drops[CW_DROP_RING_FULL] = scale;
  s.programs.push_back({"cw_sched_process_fork", 100 * scale, 10 * scale, 0});
  return s;
}

// Four live processes (tgid 100..103, comms "redis-server"/"postgres"), a fork, a fault with a
// pinned copy, one exited child, two polls.
inline std::shared_ptr<model::Aggregator> synthetic_aggregator() {
  auto agg = std::make_shared<model::Aggregator>(offline_options());
  const char* comms[] = {"redis-server", "postgres", "redis-server", "postgres"};
  for (uint32_t tgid = 100; tgid < 104; ++tgid) {
    cw_event fork = synthetic_event(CW_EV_FORK, tgid == 100 ? 1 : 100, tgid * 1000ull, comms[tgid - 100]);
    fork.aux0 = tgid * 1000ull;
    fork.aux2 = tgid;
    agg->on_event(fork);
  }
  agg->apply(synthetic_sample(1'000'000'000, 1));
  cw_event fault = synthetic_event(CW_EV_FAULT, 101, 101000, "postgres");
  fault.decision = CW_DECISION_COPY;
  fault.reason = CW_REASON_PINNED;
  fault.anomaly = 1;
  fault.address = 0x7f0000001000;
  agg->on_event(fault);
  agg->on_event(synthetic_event(CW_EV_EXIT, 103, 103000, "postgres"));
  cw_counters final_counters{};
  final_counters.c[CW_C_WP_WRITE] = 5;
  agg->on_exit({103, 0, 103000}, final_counters);
  agg->apply(synthetic_sample(2'000'000'000, 2));
  return agg;
}

inline probe::ProbePlan synthetic_plan() {
  probe::ProbePlan plan;
  plan.kernel_release = "6.1.0-fuzz";
  for (int i = 0; i < CW_HOOK_COUNT; ++i) {
    plan.hooks[i].hook = static_cast<cw_hook>(i);
    plan.hooks[i].strategy = probe::Strategy::kTracepoint;
    plan.hooks[i].target = "tp" + std::to_string(i);
    plan.hooks[i].ladder.push_back({probe::Strategy::kFentry, "f", false, "fexit refused (EPERM)"});
    plan.hooks[i].ladder.push_back({probe::Strategy::kTracepoint, "tp", true, "ok"});
  }
  return plan;
}

}  // namespace cowwatch::fuzz
