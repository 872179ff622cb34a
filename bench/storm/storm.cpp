#include "storm/storm.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/system.h"

namespace cowwatch::bench {

StormResult run_storm(size_t pages, int cpu) {
  StormResult r;
  const size_t page = 4096, bytes = pages * page;
  if (cpu >= 0) pin_to_cpu(cpu);
  auto* mem = static_cast<volatile char*>(
      mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (mem == MAP_FAILED) {
    r.error = std::string("mmap: ") + strerror(errno);
    return r;
  }
  madvise(const_cast<char*>(mem), bytes, MADV_NOHUGEPAGE);
  for (size_t off = 0; off < bytes; off += page) mem[off] = 1;  // populate: anon pages, mapcount 1
  int fds[2];
  if (pipe(fds) != 0) {
    r.error = std::string("pipe: ") + strerror(errno);
    munmap(const_cast<char*>(mem), bytes);
    return r;
  }
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    uint64_t t0 = monotonic_ns(), c0 = thread_cpu_ns();
    for (size_t off = 0; off < bytes; off += page) mem[off] = 2;  // one COW fault per page
    uint64_t elapsed[2] = {monotonic_ns() - t0, thread_cpu_ns() - c0};
    ssize_t ignored = write(fds[1], elapsed, sizeof(elapsed));
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  uint64_t elapsed[2] = {0, 0};
  bool got = child > 0 && read(fds[0], elapsed, sizeof(elapsed)) == ssize_t(sizeof(elapsed));
  close(fds[0]);
  int status = 0;
  if (child > 0) waitpid(child, &status, 0);
  munmap(const_cast<char*>(mem), bytes);
  if (child < 0) {
    r.error = std::string("fork: ") + strerror(errno);
    return r;
  }
  if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    r.error = "storm child failed";
    return r;
  }
  r.ok = true;
  r.ns_per_fault = double(elapsed[0]) / double(pages);
  r.cpu_ns_per_fault = double(elapsed[1]) / double(pages);
  r.child_pid = uint32_t(child);
  return r;
}

}  // namespace cowwatch::bench
