// Process lifecycle paths that never copy: fork of a large process whose child writes nothing,
// and many processes exiting at once.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "paths/mapped_region.h"
#include "paths/path.h"
#include "util/system.h"

namespace cowwatch::bench {
namespace {

class ForkPath final : public Path {
 public:
  explicit ForkPath(size_t bytes) : bytes_(bytes) {}
  std::string key() const override { return "fork"; }
  std::string title() const override {
    return "fork of a " + std::to_string(bytes_ >> 20) + " MiB process, no writes";
  }
  std::string unit() const override { return "fork"; }
  PathRun run(TimedSpan& span) override {
    PathRun r;
    MappedRegion region;
    if (!region.map_anonymous(bytes_, &r.error)) return r;
    region.write_each_page();  // anonymous pages the fork shares with the child (not timed)
    span.begin();
    uint64_t t0 = monotonic_ns();
    pid_t child = fork();
    if (child == 0) _exit(0);  // writes nothing: no COW fault
    uint64_t t1 = monotonic_ns();
    span.end();
    if (child < 0) {
      r.error = std::string("fork: ") + strerror(errno);
      return r;
    }
    int status = 0;
    waitpid(child, &status, 0);
    r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!r.ok) r.error = "fork child failed";
    r.ops = 1;
    r.ns_per_op = double(t1 - t0);
    return r;
  }

 private:
  size_t bytes_;
};

class ExitPath final : public Path {
 public:
  explicit ExitPath(size_t count) : count_(count) {}
  std::string key() const override { return "exit"; }
  std::string title() const override { return "exit of " + std::to_string(count_) + " processes at once"; }
  std::string unit() const override { return "exit"; }
  PathRun run(TimedSpan& span) override {
    PathRun r;
    int hold[2], ready[2];
    if (pipe2(hold, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) {
      r.error = std::string("pipe: ") + strerror(errno);
      return r;
    }
    std::vector<pid_t> children;
    for (size_t i = 0; i < count_; i++) {
      pid_t pid = fork();
      if (pid == 0) {
        close(hold[1]);
        char c = 1;
        ssize_t ignored = write(ready[1], &c, 1);
        (void)ignored;
        while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
        }  // returns 0 when the parent closes its end
        _exit(0);
      }
      if (pid < 0) {
        r.error = std::string("fork: ") + strerror(errno);
        break;
      }
      children.push_back(pid);
    }
    close(hold[0]);
    close(ready[1]);
    size_t started = 0;  // every child is blocked in read() before the clock starts
    char buf[256];
    while (started < children.size()) {
      ssize_t n = read(ready[0], buf, sizeof(buf));
      if (n <= 0) break;
      started += size_t(n);
    }
    close(ready[0]);
    span.begin();
    uint64_t t0 = monotonic_ns();
    close(hold[1]);  // all of them exit now
    size_t reaped = 0;
    for (pid_t pid : children) {
      int status = 0;
      if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) reaped++;
    }
    uint64_t t1 = monotonic_ns();
    span.end();
    if (!r.error.empty()) return r;
    if (reaped != count_ || started != count_) {
      r.error = "exit path: " + std::to_string(started) + " started, " + std::to_string(reaped) + " of " +
                std::to_string(count_) + " exited cleanly";
      return r;
    }
    r.ok = true;
    r.ops = count_;
    r.ns_per_op = double(t1 - t0) / double(count_);
    return r;
  }

 private:
  size_t count_;
};

}  // namespace

std::unique_ptr<Path> make_fork_path(size_t bytes) { return std::make_unique<ForkPath>(bytes); }
std::unique_ptr<Path> make_exit_path(size_t count) { return std::make_unique<ExitPath>(count); }

}  // namespace cowwatch::bench
