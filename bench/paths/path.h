// A path that never copies: one workload whose cost per operation cw_bench_paths compares with
// cowwatch attached and detached. Each run prepares what it needs outside the timed part.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace cowwatch::bench {

struct PathRun {
  bool ok = false;
  std::string error;
  double ns_per_op = 0;  // the timed part, wall clock / ops
  uint64_t ops = 0;      // operations in the timed part (pages, forks, exits, runs)
};

// Told when a run's timed part starts and ends (the bpf_stats pass reads program counters there,
// so set-up work such as populating memory before a fork is not charged to the path).
class TimedSpan {
 public:
  virtual ~TimedSpan() = default;
  virtual void begin() {}
  virtual void end() {}
};

class Path {
 public:
  virtual ~Path() = default;
  virtual std::string key() const = 0;    // "touch", "fork", ... (--paths)
  virtual std::string title() const = 0;  // the table's row: "first-touch anon fault (1024 MiB)"
  virtual std::string unit() const = 0;   // what one op is: "page", "fork", "exit", "run"
  // Whether this machine can run the path; false and *why when it cannot (e.g. no swap).
  virtual bool available(std::string* why) { (void)why; return true; }
  virtual PathRun run(TimedSpan& span) = 0;
  PathRun run() {
    TimedSpan none;
    return run(none);
  }
  // A fact about the last run worth printing (pages actually reclaimed, ...); "" when none.
  virtual std::string note() const { return ""; }
  // Runs discarded under each attachment before the timed ones (0 for slow macro workloads).
  virtual int warmups() const { return 1; }
  // Timed runs under each attachment, given the benchmark's --reps.
  virtual int reps(int standard) const { return standard; }
};

constexpr size_t kPage = 4096;

inline std::string mib_text(size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// A path over a scratch file of `bytes` in `dir`, created (written back, in the page cache) when
// the path is first asked whether it can run.
class FilePath : public Path {
 public:
  FilePath(size_t bytes, std::string dir, std::string file_name)
      : bytes_(bytes), dir_(std::move(dir)), file_name_(std::move(file_name)) {}
  bool available(std::string* why) override;

 protected:
  size_t bytes_;
  std::string dir_, file_name_, path_;
  unsigned sink_ = 0;  // sums of the bytes read, so the reads stay
};

// mmap + memset of `bytes` of private anonymous memory (no THP): one first-touch fault per page.
std::unique_ptr<Path> make_first_touch_path(size_t bytes);
// fork() of a process with `bytes` of touched anonymous memory; the child exits at once and
// writes nothing. Times the fork call in the parent.
std::unique_ptr<Path> make_fork_path(size_t bytes);
// `count` children blocked on a pipe are released at once; time until all are reaped.
std::unique_ptr<Path> make_exit_path(size_t count);
// MADV_PAGEOUT of `bytes` of touched anonymous memory (to swap; unavailable without swap).
std::unique_ptr<Path> make_reclaim_anon_path(size_t bytes);
// MADV_PAGEOUT of `bytes` of a file's page cache, mapped and read-touched (clean pages dropped,
// or written to swap when `dir` is tmpfs). The file lives in `dir`.
std::unique_ptr<Path> make_reclaim_file_path(size_t bytes, const std::string& dir);
// A `bytes` file in `dir`, in the page cache, mapped and read one byte per page.
std::unique_ptr<Path> make_file_read_path(size_t bytes, const std::string& dir);
// `/bin/sh -c command`, timed to its exit (must exit 0), `reps` times per attachment, no warm-up
// under each attachment. `label` names it in the table.
std::unique_ptr<Path> make_macro_path(const std::string& command, const std::string& label, int reps);

}  // namespace cowwatch::bench
