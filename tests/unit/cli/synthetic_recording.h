// A small recording built from synthetic cw_event records and counter samples, with known
// content: redis-server (pid 5000100) forks a child (5000101) that copies shared pages and
// exits, a python worker (5000200) copies zero-page and extra_ref pages and has pages swapped,
// and rdma-app (5000300) copies a maybe-DMA-pinned page (an anomaly). Three samples, one second
// apart. The pids are above PID_MAX_LIMIT, so no process on the test host can be mistaken for
// them (the recorder reads /proc).
#pragma once

#include <cstring>
#include <string>

#include "control/control_dispatch.h"
#include "recording/recording.h"

namespace cowwatch::cli::testing {

inline probe::ProbePlan synthetic_plan() {
  probe::ProbePlan plan;
  plan.kernel_release = "6.1.0-21-cloud-amd64";
  for (int i = 0; i < CW_HOOK_COUNT; ++i) {
    auto& h = plan.hooks[i];
    h.hook = static_cast<cw_hook>(i);
    h.strategy = probe::Strategy::kFentry;
    h.exact = true;
    h.accuracy = "exact";
  }
  auto set = [&](cw_hook hook, probe::Strategy s, const char* target, bool exact,
                 const char* accuracy) {
    auto& h = plan.hooks[hook];
    h.strategy = s;
    h.target = target;
    h.exact = exact;
    h.accuracy = accuracy;
    h.ladder.push_back({s, target, true, "ok"});
  };
  set(CW_HOOK_WP_FAULT, probe::Strategy::kFentry, "do_wp_page", true, "exact");
  plan.hooks[CW_HOOK_COW_COPY].ladder.push_back(
      {probe::Strategy::kFentry, "wp_page_copy", false, "no BTF FUNC record"});
  set(CW_HOOK_COW_COPY, probe::Strategy::kDerived, "do_wp_page pfn compare", true,
      "exact (pte pfn changed at do_wp_page exit)");
  plan.hooks[CW_HOOK_COW_REUSE].ladder.push_back(
      {probe::Strategy::kFentry, "wp_page_reuse", false, "attach EBUSY (notrace)"});
  set(CW_HOOK_COW_REUSE, probe::Strategy::kDerived, "do_wp_page pfn compare", true, "exact");
  set(CW_HOOK_GUP_UNSHARE, probe::Strategy::kDerived, "do_wp_page FAULT_FLAG_UNSHARE", true, "exact");
  set(CW_HOOK_SWAP_ADD, probe::Strategy::kFentry, "add_to_swap", true, "exact");
  set(CW_HOOK_FORK, probe::Strategy::kTracepoint, "sched_process_fork", true, "exact");
  set(CW_HOOK_EXIT, probe::Strategy::kTracepoint, "sched_process_exit", true, "exact");
  return plan;
}

inline cw_event make_event(uint8_t type, uint8_t hook, uint32_t tgid, uint64_t start_ns,
                           uint64_t ts_ns, const char* comm) {
  cw_event e{};
  e.type = type;
  e.hook = hook;
  e.tgid = e.pid = e.actor_tgid = tgid;
  e.start_ns = start_ns;
  e.ts_ns = ts_ns;
  e.reason = CW_REASON_COUNT;
  std::memcpy(e.comm, comm, strnlen(comm, CW_COMM_LEN - 1));
  return e;
}

inline cw_event make_fault(uint32_t tgid, uint64_t start_ns, uint64_t ts_ns, const char* comm,
                           uint8_t reason, uint64_t address) {
  cw_event e = make_event(CW_EV_FAULT, CW_HOOK_WP_FAULT, tgid, start_ns, ts_ns, comm);
  e.decision = CW_DECISION_COPY;
  e.reason = reason;
  e.fault_flags = CW_FF_WRITE;
  e.page_flags = CW_PF_ANON;
  e.address = address;
  e.refcount = 2;
  e.mapcount = 2;
  return e;
}

struct Proc {
  uint32_t tgid;
  uint64_t start_ns;
};
inline constexpr Proc kRedis{5000100, 1'000'000'000};
inline constexpr Proc kChild{5000101, 10'200'000'000};
inline constexpr Proc kPython{5000200, 2'000'000'000};
inline constexpr Proc kRdma{5000300, 3'000'000'000};
inline constexpr uint64_t kSecond = 1'000'000'000;

inline ingest::ProcessCounters counters(Proc p, std::initializer_list<std::pair<int, uint64_t>> v) {
  ingest::ProcessCounters pc{};
  pc.key = {p.tgid, 0, p.start_ns};
  for (auto [i, n] : v) pc.counters.c[i] = n;
  return pc;
}

inline int copy(int reason) { return int{CW_C_COPY_FIRST} + reason; }

inline ingest::KernelSample make_sample(uint64_t mono_ns, std::vector<ingest::ProcessCounters> procs,
                                        const std::vector<ingest::ProcessCounters>& exited = {}) {
  ingest::KernelSample s;
  s.mono_ns = mono_ns;
  s.process_map_capacity = 32768;
  const std::vector<ingest::ProcessCounters>* lists[] = {&procs, &exited};
  for (const auto* list : lists) {
    for (const auto& p : *list) {
      for (int i = 0; i < CW_C_COUNT; ++i) s.host.c[i] += p.counters.c[i];
    }
  }
  s.processes = std::move(procs);
  s.programs.push_back({"cw_fexit_do_wp_page", 0, 100, 0});
  return s;
}

// Writes the recording; false with *error on I/O failure.
inline bool write_synthetic_recording(const std::string& path, std::string* error) {
  control::RecordingWriter w;
  nlohmann::json header = control::recording_header(synthetic_plan());
  header["host"] = "testhost";
  header["created_unix"] = 1790000000.0;
  header["source"] = "daemon";
  if (!w.open(path, header, error)) return false;

  w.write_event(make_fault(kPython.tgid, kPython.start_ns, 9 * kSecond, "python3", CW_REASON_ZERO_PAGE, 0x1000));
  w.write_sample(make_sample(
      10 * kSecond,
      {counters(kRedis, {{CW_C_WP_WRITE, 10}, {CW_C_REUSE_EXCLUSIVE, 10}}),
       counters(kPython, {{CW_C_WP_WRITE, 5}, {copy(CW_REASON_ZERO_PAGE), 5}})}));

  cw_event fork = make_event(CW_EV_FORK, CW_HOOK_FORK, kRedis.tgid, kRedis.start_ns,
                             10 * kSecond + 200'000'000, "redis-server");
  fork.aux0 = kChild.start_ns;
  fork.aux2 = kChild.tgid;
  w.write_event(fork);
  w.write_event(make_fault(kChild.tgid, kChild.start_ns, 10 * kSecond + 300'000'000,
                           "redis-rdb-bgsave", CW_REASON_SHARED, 0x7f0000001000));
  cw_event pinned = make_fault(kRdma.tgid, kRdma.start_ns, 10 * kSecond + 400'000'000,
                               "rdma-app", CW_REASON_PINNED, 0x7f00000a0000);
  pinned.page_flags = CW_PF_ANON | CW_PF_MAYBE_PINNED | CW_PF_MM_HAS_PINNED;
  pinned.refcount = 1026;
  pinned.mapcount = 1;
  pinned.anomaly = 1;
  w.write_event(pinned);
  w.write_sample(make_sample(
      11 * kSecond,
      {counters(kRedis, {{CW_C_WP_WRITE, 110}, {copy(CW_REASON_SHARED), 100}, {CW_C_REUSE_EXCLUSIVE, 10}, {CW_C_FORK, 1}}),
       counters(kChild, {{CW_C_WP_WRITE, 200}, {copy(CW_REASON_SHARED), 200}}),
       counters(kPython, {{CW_C_WP_WRITE, 25}, {copy(CW_REASON_ZERO_PAGE), 5}, {copy(CW_REASON_EXTRA_REF), 20}}),
       counters(kRdma, {{CW_C_WP_WRITE, 1}, {copy(CW_REASON_PINNED), 1}})}));

  cw_event swap = make_event(CW_EV_SWAP_ADD, CW_HOOK_SWAP_ADD, kPython.tgid, kPython.start_ns,
                             11 * kSecond + 100'000'000, "kswapd0");
  swap.actor_tgid = 5000090;
  w.write_event(swap);
  cw_event exit = make_event(CW_EV_EXIT, CW_HOOK_EXIT, kChild.tgid, kChild.start_ns,
                             11 * kSecond + 500'000'000, "redis-rdb-bgsave");
  w.write_event(exit);
  auto child_final = counters(kChild, {{CW_C_WP_WRITE, 300}, {copy(CW_REASON_SHARED), 300}});
  w.write_exit_flush(child_final);
  w.write_lost(2);
  w.write_sample(make_sample(
      12 * kSecond,
      {counters(kRedis, {{CW_C_WP_WRITE, 150}, {copy(CW_REASON_SHARED), 140}, {CW_C_REUSE_EXCLUSIVE, 10}, {CW_C_FORK, 1}}),
       counters(kPython, {{CW_C_WP_WRITE, 45}, {copy(CW_REASON_ZERO_PAGE), 5}, {copy(CW_REASON_EXTRA_REF), 40}, {CW_C_SWAP_ADD, 3}}),
       counters(kRdma, {{CW_C_WP_WRITE, 1}, {copy(CW_REASON_PINNED), 1}})},
      {child_final}));
  return w.close(error);
}

}  // namespace cowwatch::cli::testing
