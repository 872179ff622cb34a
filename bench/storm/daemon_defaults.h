// The daemon's kernel-side settings from its default configuration, for benchmarks that attach
// "cowwatch as shipped" (make_daemon_rung).
#pragma once

#include <cstdint>

#include "loader/kernel_session.h"

namespace cowwatch::bench {

struct DaemonDefaults {
  loader::KernelOptions options;  // events, sampling, ring sizes, map capacity, rung preference
  uint64_t drain_ns = 0;          // daemon.drain_interval
  uint64_t poll_ns = 0;           // daemon.poll_interval
};

DaemonDefaults daemon_defaults(probe::RungPreference prefer = probe::RungPreference::kAuto);

}  // namespace cowwatch::bench
