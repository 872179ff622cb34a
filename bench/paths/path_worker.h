// The process the paths run in. cw_bench_paths opens cowwatch's BPF session (maps, 17 MiB of
// mmapped ring buffers) in its own process; a path run there would fork children that inherit
// those mappings (ring pages are inserted page by page, VM_MIXEDMAP, so fork copies and exit tears
// down ~8,700 page-table entries each), a cost no production process pays (none is a child of the
// daemon). So the paths run in a worker forked before any session opens, driven over a socket:
// run path i, with its timed span reported back when the caller wants it (the bpf_stats pass).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "paths/path.h"

namespace cowwatch::bench {

class PathWorker {
 public:
  // Forks the worker, which owns a copy of `paths` as they are now. Call before any BPF session
  // or ring buffer exists in this process. *error and false from ok() when the fork fails.
  explicit PathWorker(const std::vector<std::unique_ptr<Path>>& paths);
  ~PathWorker();  // tells the worker to exit and reaps it
  PathWorker(const PathWorker&) = delete;
  PathWorker& operator=(const PathWorker&) = delete;

  bool ok(std::string* error) const;
  // Path `index` once in the worker. `span`, when given, is told (here, in the calling process)
  // when the timed part starts and ends, while the worker waits.
  PathRun run(size_t index, TimedSpan* span = nullptr);
  // The path's note() after its last run in the worker.
  const std::string& note(size_t index) const { return notes_[index]; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string error_;
  std::vector<std::string> notes_;
};

}  // namespace cowwatch::bench
