// What the kernel side hands to the model on every poll: exact counters read from BPF maps,
// drop counters and per-program BPF statistics. Events arrive separately, one cw_event at a time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cowwatch.h"

namespace cowwatch::ingest {

struct ProcessCounters {
  cw_proc_key key;      // (tgid, start_ns)
  cw_counters counters; // absolute, monotonic since the process was first seen by BPF
};

struct ProgramStats {
  std::string name;            // BPF program name, e.g. "cw_fexit_do_wp_page"
  uint64_t run_time_ns = 0;    // bpf_prog_info.run_time_ns (0 unless kernel.bpf_stats_enabled)
  uint64_t run_cnt = 0;
  uint64_t recursion_misses = 0;  // runs skipped by recursion protection: lost events
};

struct KernelSample {
  uint64_t mono_ns = 0;                            // CLOCK_MONOTONIC when read
  cw_counters host{};                              // exact host totals (per-CPU array, summed)
  std::array<uint64_t, CW_DROP_COUNT> drops{};     // summed over CPUs
  std::vector<ProcessCounters> processes;          // live entries of the per-process map
  uint32_t process_map_capacity = 0;               // max_entries of that map
  std::vector<ProgramStats> programs;              // attached programs
};

}  // namespace cowwatch::ingest
