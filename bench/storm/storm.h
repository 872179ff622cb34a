// The fork+write storm: a parent touches `pages` private anonymous pages (no THP), forks, and the
// child writes one byte to every page; each write is a COW fault through do_wp_page. The child's
// write loop is timed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "util/system.h"  // settle_memory

namespace cowwatch::bench {

struct StormResult {
  bool ok = false;
  std::string error;
  double ns_per_fault = 0;      // child's write loop, wall clock / pages
  double cpu_ns_per_fault = 0;  // the same loop's thread CPU time / pages (excludes steal time)
  uint32_t child_pid = 0;
};

// `cpu` >= 0 pins the parent and child there.
StormResult run_storm(size_t pages, int cpu);

}  // namespace cowwatch::bench
