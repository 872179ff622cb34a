// cw_soak_storm: a continuous fork+write storm whose own bookkeeping is the expected count
// (bench/soak.sh, docs/performance.md §6).
//
//   cw_soak_storm --cgroup DIR [--pages K]
//
// Touches K private anonymous pages (no THP), then until SIGTERM/SIGINT: clone3 a child straight
// into the cgroup v2 directory DIR that writes one byte to each page and exits, and wait for it.
// Each child that exits with status 0 made exactly K user write faults on present pages, each a
// COW copy, and nothing else writes in DIR (soak/writer_child.h). Every second it prints
//   progress seconds=S forks=F cow_writes=W
// and at the end
//   total forks=F cow_writes=W pages=K
// Exits 1 if a child failed (its writes would be unknown), 77 when clone3 into a cgroup is missing.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "soak/writer_child.h"
#include "util/system.h"

namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

int usage() {
  std::fprintf(stderr, "usage: cw_soak_storm --cgroup DIR [--pages K]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cowwatch::bench;
  std::string cgroup;
  size_t pages = 256;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cgroup" && i + 1 < argc) cgroup = argv[++i];
    else if (a == "--pages" && i + 1 < argc) pages = std::strtoul(argv[++i], nullptr, 10);
    else return usage();
  }
  if (cgroup.empty() || pages == 0) return usage();
  int cgroup_fd = open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup_fd < 0) {
    std::fprintf(stderr, "cw_soak_storm: cannot open cgroup %s: %s\n", cgroup.c_str(), strerror(errno));
    return 2;
  }
  const size_t page = size_t(sysconf(_SC_PAGESIZE)), bytes = pages * page;
  auto* mem = static_cast<char*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (mem == MAP_FAILED) {
    std::fprintf(stderr, "cw_soak_storm: mmap of %zu pages: %s\n", pages, strerror(errno));
    return 1;
  }
  // Small folios only: a child's write to a page of a large folio could be decided per folio.
  madvise(mem, bytes, MADV_NOHUGEPAGE);
  for (size_t off = 0; off < bytes; off += page) mem[off] = 1;  // present before the first fork

  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sa.sa_flags = SA_RESTART;  // the child in flight is waited for; the loop ends after it
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  uint64_t forks = 0, writes = 0;
  const uint64_t t0 = monotonic_ns();
  uint64_t next_report = t0 + 1000000000ull;
  int rc = 0;
  while (!g_stop) {
    pid_t child = clone_page_writer(cgroup_fd, mem, pages, page);
    if (child < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;  // pid or task limit: try again
      std::fprintf(stderr, "cw_soak_storm: clone3 into %s: %s\n", cgroup.c_str(), strerror(errno));
      rc = errno == ENOSYS || errno == EINVAL ? 77 : 1;
      break;
    }
    ++forks;
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "cw_soak_storm: child %d failed (status 0x%x): its writes are unknown\n", child, status);
      rc = 1;
      break;
    }
    writes += pages;
    if (uint64_t now = monotonic_ns(); now >= next_report) {
      std::printf("progress seconds=%" PRIu64 " forks=%" PRIu64 " cow_writes=%" PRIu64 "\n", uint64_t((now - t0) / 1000000000ull),
                  forks, writes);
      std::fflush(stdout);
      next_report += 1000000000ull;
    }
  }
  std::printf("total forks=%" PRIu64 " cow_writes=%" PRIu64 " pages=%zu\n", forks, writes, pages);
  return rc;
}
