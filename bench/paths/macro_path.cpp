// A macro workload: a shell command (a parallel compile, an archive of a tree) run to its end.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "paths/path.h"
#include "util/system.h"

namespace cowwatch::bench {
namespace {

class MacroPath final : public Path {
 public:
  MacroPath(std::string command, std::string label, int reps)
      : command_(std::move(command)), label_(std::move(label)), reps_(reps) {}
  std::string key() const override { return "macro"; }
  std::string title() const override { return "macro: " + label_; }
  std::string unit() const override { return "run"; }
  int warmups() const override { return 0; }
  int reps(int) const override { return reps_; }
  PathRun run(TimedSpan& span) override {
    PathRun r;
    span.begin();
    uint64_t t0 = monotonic_ns();
    pid_t pid = fork();
    if (pid == 0) {
      unpin_cpu();  // a parallel build uses every CPU, as it would without the benchmark
      execl("/bin/sh", "sh", "-c", command_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid < 0) {
      r.error = std::string("fork: ") + strerror(errno);
      return r;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    uint64_t t1 = monotonic_ns();
    span.end();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      r.error = "macro command failed (status " + std::to_string(status) + "): " + command_;
      return r;
    }
    r.ok = true;
    r.ops = 1;
    r.ns_per_op = double(t1 - t0);
    return r;
  }

 private:
  std::string command_, label_;
  int reps_;
};

}  // namespace

std::unique_ptr<Path> make_macro_path(const std::string& command, const std::string& label, int reps) {
  return std::make_unique<MacroPath>(command, label, reps);
}

}  // namespace cowwatch::bench
