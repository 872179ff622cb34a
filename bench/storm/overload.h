// Per-process counters at ring overload: cowwatch with every event on the ring (bpf.events: all),
// one storm with a ring that holds it and one with a ring ~10x too small and no drain during the
// storm. The storm child's counters (read at its exit, as the daemon does) must be equal, and
// every fault must be either delivered or counted as a drop.
#pragma once

#include <cstddef>

#include "loader/kernel_session.h"

namespace cowwatch::bench {

// Prints the table; returns false when a check fails or the session does not open.
bool run_overload_check(const loader::KernelOptions& base, size_t pages, int cpu);

}  // namespace cowwatch::bench
