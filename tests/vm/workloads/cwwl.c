// cwwl — copy-on-write workloads with known ground truth, for the VM tier (tests/vm).
//
//   cwwl [-n PAGES] [-t] WORKLOAD...      run workloads, one result line each
//   cwwl list                             print the workload names
//   cwwl progmisses                       runs skipped per loaded cw_* BPF program (prog_misses.h)
//   cwwl --exec-tail PAGES                (internal: what workload `exec` execs)
//
// Environment: CWWL_CGROUP_ROOT (run each workload in ROOT/wl_<name>), CWWL_TMPDIR (file_private's
// file, default /tmp), CWWL_ODIRECT_PATH (O_DIRECT target, default /dev/ram0 when it exists),
// CWWL_PID_MAX (short_lived sets kernel.pid_max to it while it runs, so that pids wrap).
//
// Every workload runs in a fresh "runner" process forked from cwwl; each measured process (runner
// or its child) sets a distinctive comm with prctl(PR_SET_NAME) right after fork, so per-comm metrics
// isolate it. Pages are anonymous 4 KiB pages with MADV_NOHUGEPAGE (with -t: 2 MiB aligned and
// MADV_HUGEPAGE). One line per workload:
//   cwwl result workload=NAME n=N status=ok key=value ...
// Keys are the workload's own observations: minor faults of the measured loop (getrusage), syscall
// results, VmSwap, and /proc/vmstat deltas around the whole workload (vm_<counter>). Expected
// values are in tests/vm/expectations.py.
//
// Build: gcc -O2 -static (the initramfs has no libc).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_MERGEABLE
#define MADV_MERGEABLE 12
#define MADV_UNMERGEABLE 13
#endif

enum { PAGE = 4096, HUGE = 2 << 20, MAX_OBS = 24, PIPE_BYTES = 1 << 20 };

static long n_pages = 512;
static int use_thp;

// ---------------------------------------------------------------------------------------------
// Observations: written by runner and children into a MAP_SHARED page created (and pre-faulted)
// by cwwl before the runner is forked, so recording them causes no write-protect fault.

struct observation {
  char key[32];
  long value;
};

struct observations {
  int count;
  char failure[200];
  struct observation items[MAX_OBS];
};

static struct observations *obs;

static void observe(const char *key, long value) {
  for (int i = 0; i < obs->count; i++) {
    if (strcmp(obs->items[i].key, key) == 0) {
      obs->items[i].value = value;
      return;
    }
  }
  if (obs->count < MAX_OBS) {
    snprintf(obs->items[obs->count].key, sizeof obs->items[0].key, "%s", key);
    obs->items[obs->count].value = value;
    obs->count++;
  }
}

static void fail(const char *fmt, ...) {
  if (obs->failure[0]) return;  // keep the first failure
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(obs->failure, sizeof obs->failure, fmt, ap);
  va_end(ap);
}

// ---------------------------------------------------------------------------------------------
// Helpers

static void set_comm(const char *name) { prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

static long minflt(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

// N pages of private anonymous memory, not yet faulted in.
static char *alloc_pages(long n) {
  size_t len = (size_t)n * PAGE;
  size_t map_len = use_thp ? len + HUGE : len;
  char *p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    fail("mmap: %s", strerror(errno));
    _exit(1);
  }
  if (use_thp) p = (char *)(((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
  if (madvise(p, len, use_thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0) fail("madvise(HUGEPAGE flag): %s", strerror(errno));
  return p;
}

// Write one byte per page; returns the minor faults this took.
static long write_pages(char *p, long n, char value) {
  long before = minflt();
  for (long i = 0; i < n; i++) ((volatile char *)p)[i * PAGE] = value;
  return minflt() - before;
}

static long read_pages(const char *p, long n) {
  long before = minflt();
  long sum = 0;
  for (long i = 0; i < n; i++) sum += ((const volatile char *)p)[i * PAGE];
  (void)sum;
  return minflt() - before;
}

static char *populated_pages(long n) {
  char *p = alloc_pages(n);
  write_pages(p, n, 1);
  return p;
}

// Page frame numbers of [p, p+n pages) from /proc/self/pagemap (0 where not present; root only:
// others read 0 pfns). Returns a malloc'd array, or NULL on failure.
static uint64_t *read_pfns(const char *p, long n) {
  uint64_t *pfns = calloc((size_t)n, sizeof *pfns);
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (!pfns || fd < 0 ||
      pread(fd, pfns, (size_t)n * sizeof *pfns, (off_t)((uintptr_t)p / PAGE * sizeof *pfns)) !=
          (ssize_t)(n * (long)sizeof *pfns)) {
    fail("pagemap: %s", strerror(errno));
    free(pfns);
    pfns = NULL;
  }
  if (fd >= 0) close(fd);
  for (long i = 0; pfns && i < n; i++)
    pfns[i] = (pfns[i] >> 63) ? (pfns[i] & ((1ULL << 55) - 1)) : 0;  // bit 63 present, 0-54 pfn
  return pfns;
}

// A "Name:   N kB" line of /proc/PID/status (pid 0: this process); -1 when absent.
static long status_kb_of(pid_t pid, const char *name) {
  char path[64];
  if (pid)
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  else
    snprintf(path, sizeof path, "/proc/self/status");
  FILE *f = fopen(path, "r");
  char line[256];
  long kb = -1;
  size_t len = strlen(name);
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, name, len) == 0 && line[len] == ':' && sscanf(line + len + 1, "%ld", &kb) == 1) break;
  fclose(f);
  return kb;
}

static long status_kb(const char *name) { return status_kb_of(0, name); }
static long vmswap_kb_of(pid_t pid) { return status_kb_of(pid, "VmSwap"); }
static long vmswap_kb(void) { return vmswap_kb_of(0); }

// Fork a child that sets `comm`, runs body(arg) and exits with its status.
static pid_t fork_child(const char *comm, int (*body)(void *), void *arg) {
  pid_t pid = fork();
  if (pid < 0) {
    fail("fork: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    set_comm(comm);
    _exit(body ? body(arg) : 0);
  }
  return pid;
}

static int wait_child(pid_t pid) {
  int status = 0;
  if (pid <= 0) return -1;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("child %d: status 0x%x", pid, status);
  return status;
}

// A child that blocks until the parent closes the write end of a pipe: keeps pages COW-shared.
struct holder {
  int fds[2];
};

static int hold_body(void *arg) {
  struct holder *h = arg;
  char c;
  close(h->fds[1]);
  while (read(h->fds[0], &c, 1) < 0 && errno == EINTR) {
  }
  return 0;
}

static pid_t start_holder(struct holder *h, const char *comm) {
  if (pipe(h->fds) != 0) {
    fail("pipe: %s", strerror(errno));
    return -1;
  }
  pid_t pid = fork_child(comm, hold_body, h);
  close(h->fds[0]);
  return pid;
}

static void stop_holder(struct holder *h, pid_t pid) {
  close(h->fds[1]);
  wait_child(pid);
}

// Long-term pin of [p, p+n pages) via io_uring registered buffers (raw syscalls, no liburing).
// Returns the ring fd (keep it open to keep the pin) or -1.
static int pin_with_io_uring(char *p, long n) {
  struct io_uring_params params;
  memset(&params, 0, sizeof params);
  int fd = (int)syscall(__NR_io_uring_setup, 4, &params);
  if (fd < 0) {
    fail("io_uring_setup: %s", strerror(errno));
    return -1;
  }
  struct iovec iov = {.iov_base = p, .iov_len = (size_t)n * PAGE};
  if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1) != 0) {
    fail("IORING_REGISTER_BUFFERS: %s", strerror(errno));
    close(fd);
    return -1;
  }
  observe("pinned_pages", n);
  return fd;
}

#include "page_oracle.h"
#include "prog_misses.h"

// ---------------------------------------------------------------------------------------------
// Workloads. Each runs in a fresh runner process; `comm` in the table is the runner's.

static char *shared_buf;  // the runner's populated pages, inherited by children

static int child_write_body(void *arg) {
  (void)arg;
  observe("child_minflt", write_pages(shared_buf, n_pages, 2));
  return 0;
}

// 1. fork; the child writes N parent-populated pages: N copies (reason shared) in the child.
static void wl_cow_child(void) {
  shared_buf = populated_pages(n_pages);
  wait_child(fork_child("wl_cow_child", child_write_body, NULL));
}

// 2. fork, the child exits, then the parent writes the same pages: N reuses.
static void wl_cow_reuse(void) {
  shared_buf = populated_pages(n_pages);
  wait_child(fork_child("wl_reuse_child", NULL, NULL));
  observe("parent_minflt", write_pages(shared_buf, n_pages, 3));
}

// 3a. read fresh anon memory (maps the zero page), then write: N copies, reason zero_page.
static void wl_zero_page(void) {
  char *p = alloc_pages(n_pages);
  observe("read_minflt", read_pages(p, n_pages));
  observe("write_minflt", write_pages(p, n_pages, 1));
}

// 3b. first write to a read-faulted MAP_PRIVATE file mapping (tmpfs file): N copies, reason file.
static void wl_file_private(void) {
  const char *dir = getenv("CWWL_TMPDIR") ? getenv("CWWL_TMPDIR") : "/tmp";
  char path[256];
  snprintf(path, sizeof path, "%s/cwwl-file-%d", dir, getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return fail("open %s: %s", path, strerror(errno));
  unlink(path);
  char page[PAGE];
  memset(page, 7, sizeof page);
  for (long i = 0; i < n_pages; i++)
    if (write(fd, page, PAGE) != PAGE) return fail("write %s: %s", path, strerror(errno));
  char *p = mmap(NULL, (size_t)n_pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return fail("mmap file: %s", strerror(errno));
  observe("read_minflt", read_pages(p, n_pages));
  observe("write_minflt", write_pages(p, n_pages, 1));
  close(fd);
}

// 4a. process_vm_readv from a COW-shared buffer of another process: N unshare faults in that mm.
static void wl_unshare_pvr(void) {
  shared_buf = populated_pages(n_pages);
  char *dst = populated_pages(n_pages);
  struct holder h;
  pid_t target = start_holder(&h, "wl_pvr_target");
  struct iovec local = {.iov_base = dst, .iov_len = (size_t)n_pages * PAGE};
  struct iovec remote = {.iov_base = shared_buf, .iov_len = (size_t)n_pages * PAGE};
  long before = minflt();  // GUP faults (the unshares, on the target's mm) count for the caller
  ssize_t got = process_vm_readv(target, &local, 1, &remote, 1, 0);
  observe("readv_minflt", minflt() - before);
  if (got < 0) fail("process_vm_readv: %s", strerror(errno));
  observe("readv_bytes", got);
  stop_holder(&h, target);
}

// 4c. an unshare storm: process_vm_readv of a freshly COW-shared buffer, again and again for
// CWWL_LOOP_SECONDS (default 4) so the daemon sees it over several polls (alert unshare_storm).
static void wl_unshare_loop(void) {
  const char *env = getenv("CWWL_LOOP_SECONDS");
  long seconds = env ? atol(env) : 4, rounds = 0;
  char *dst = populated_pages(n_pages);
  struct iovec local = {.iov_base = dst, .iov_len = (size_t)n_pages * PAGE};
  time_t end = time(NULL) + seconds;
  while (time(NULL) < end) {
    shared_buf = populated_pages(n_pages);
    struct holder h;
    pid_t target = start_holder(&h, "wl_storm_target");
    struct iovec remote = {.iov_base = shared_buf, .iov_len = (size_t)n_pages * PAGE};
    if (process_vm_readv(target, &local, 1, &remote, 1, 0) < 0) fail("process_vm_readv: %s", strerror(errno));
    stop_holder(&h, target);
    munmap(shared_buf, (size_t)n_pages * PAGE);
    rounds++;
  }
  observe("rounds", rounds);
}

// 4b. O_DIRECT write from a COW-shared buffer: FOLL_PIN on 6.12+ → N unshares; 6.1 uses FOLL_GET → 0.
static void wl_unshare_odirect(void) {
  const char *path = getenv("CWWL_ODIRECT_PATH");
  if (!path) path = access("/dev/ram0", F_OK) == 0 ? "/dev/ram0" : "/var/tmp/cwwl-odirect";
  shared_buf = populated_pages(n_pages);
  struct holder h;
  pid_t sharer = start_holder(&h, "wl_odio_child");
  int fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0600);
  if (fd < 0) {
    fail("open %s O_DIRECT: %s", path, strerror(errno));
  } else {
    long before = minflt();
    ssize_t wrote = write(fd, shared_buf, (size_t)n_pages * PAGE);
    observe("odirect_minflt", minflt() - before);
    if (wrote < 0) fail("O_DIRECT write %s: %s", path, strerror(errno));
    observe("odirect_bytes", wrote);
    close(fd);
  }
  stop_holder(&h, sharer);
  if (strncmp(path, "/dev/", 5) != 0) unlink(path);
}

// The parent's pfns of shared_buf at fork: the child tells from its own which pages the kernel
// copied at fork (a different pfn before the child wrote anything).
static uint64_t *parent_pfns;

static int pinned_child_body(void *arg) {
  uint64_t *mine = read_pfns(shared_buf, n_pages);
  long copied = 0;
  for (long i = 0; mine && parent_pfns && i < n_pages; i++) copied += mine[i] && mine[i] != parent_pfns[i];
  observe("copied_at_fork", copied);
  return child_write_body(arg);
}

// 5. long-term pin (io_uring registered buffer), then fork: pinned pages are copied at fork; no
//    COW faults afterwards in child or parent.
static void wl_iouring_fork(void) {
  shared_buf = populated_pages(n_pages);
  int ring = pin_with_io_uring(shared_buf, n_pages);
  if (ring < 0) return;
  parent_pfns = read_pfns(shared_buf, n_pages);
  wait_child(fork_child("wl_pin_child", pinned_child_body, NULL));
  observe("parent_minflt", write_pages(shared_buf, n_pages, 4));
  close(ring);
}

static int dontfork_child_body(void *arg) {
  (void)arg;
  unsigned char vec;
  // the region is not mapped in the child at all: mincore fails with ENOMEM
  observe("child_has_buffer", mincore(shared_buf, PAGE, &vec) == 0);
  observe("copied_at_fork", 0);
  return 0;
}

// 5b. the same long-term pin, but the pinned region is MADV_DONTFORK: the child never gets it,
//     nothing pinned is shared or copied at fork (fork_with_pins must stay quiet).
static void wl_iouring_dontfork(void) {
  shared_buf = populated_pages(n_pages);
  int ring = pin_with_io_uring(shared_buf, n_pages);
  if (ring < 0) return;
  if (madvise(shared_buf, (size_t)n_pages * PAGE, MADV_DONTFORK) != 0) fail("MADV_DONTFORK: %s", strerror(errno));
  // whether the pin is accounted in mm->pinned_vm (io_uring skips it for CAP_IPC_LOCK on 7.2)
  observe("pinned_vm_accounted", status_kb("VmPin") > 0);
  wait_child(fork_child("wl_pindf_child", dontfork_child_body, NULL));
  observe("parent_minflt", write_pages(shared_buf, n_pages, 4));
  close(ring);
}

// 6a. MADV_PAGEOUT of N anon pages (swap on a ramdisk): N swap adds.
static void pageout(int pinned) {
  char *p = populated_pages(n_pages);
  int ring = -1;
  if (pinned && (ring = pin_with_io_uring(p, n_pages)) < 0) return;
  if (madvise(p, (size_t)n_pages * PAGE, MADV_PAGEOUT) != 0) fail("MADV_PAGEOUT: %s", strerror(errno));
  observe("vmswap_kb", vmswap_kb());
  if (ring >= 0) close(ring);
}

static void wl_pageout(void) { pageout(0); }

// 6b. the same with the buffer pinned: 0 swap adds.
static void wl_pinned_pageout(void) { pageout(1); }

// 7. vmsplice references in pipes, then fork+exit, then a parent write: copies, reason extra_ref
//    (mapcount 1 but an extra reference from the pipe).
static void wl_vmsplice_ref(void) {
  shared_buf = populated_pages(n_pages);
  long spliced = 0;
  while (spliced < n_pages) {
    int fds[2];
    if (pipe(fds) != 0) return fail("pipe: %s", strerror(errno));
    fcntl(fds[1], F_SETPIPE_SZ, PIPE_BYTES);  // may be capped for non-root; use what we get
    long cap = fcntl(fds[1], F_GETPIPE_SZ) / PAGE;
    long chunk = n_pages - spliced < cap ? n_pages - spliced : cap;
    struct iovec iov = {.iov_base = shared_buf + spliced * PAGE, .iov_len = (size_t)chunk * PAGE};
    while (iov.iov_len > 0) {
      ssize_t r = vmsplice(fds[1], &iov, 1, 0);
      if (r <= 0) return fail("vmsplice: %s", r < 0 ? strerror(errno) : "0 bytes");
      iov.iov_base = (char *)iov.iov_base + r;
      iov.iov_len -= (size_t)r;
    }
    spliced += chunk;
    // pipes stay open: their page references are the point
  }
  observe("spliced_pages", spliced);
  wait_child(fork_child("wl_vsp_child", NULL, NULL));
  observe("parent_minflt", write_pages(shared_buf, n_pages, 5));
}

// 9. fork + exec: the child lives through a daemon poll under its fork-time name, then execs this
// binary through a symlink named wl_exec_image (comm = the file's name), which writes N zero-page
// pages: N zero_page copies that must count under the new name, not the old one. The parent then
// writes its pages: the child's old mm is gone, so N reuses and no fork copies.
#define CWWL_EXEC_TAIL "--exec-tail"
static int exec_body(void *arg) {
  (void)arg;
  usleep(1500 * 1000);  // > daemon.poll_interval: the daemon has seen this process as wl_exec_child
  const char *dir = getenv("CWWL_TMPDIR") ? getenv("CWWL_TMPDIR") : "/tmp";
  char link[256], pages[32];
  snprintf(link, sizeof link, "%s/wl_exec_image", dir);
  unlink(link);
  if (symlink("/proc/self/exe", link) != 0) return 3;
  snprintf(pages, sizeof pages, "%ld", n_pages);
  execl(link, "wl_exec_image", CWWL_EXEC_TAIL, pages, (char *)NULL);
  return 4;
}

static int exec_tail(long n) {  // the exec'd image: no result line, only its exit status
  char *p = alloc_pages(n);
  if (!p) return 5;
  read_pages(p, n);
  write_pages(p, n, 1);
  return 0;
}

static void wl_exec(void) {
  shared_buf = populated_pages(n_pages);
  wait_child(fork_child("wl_exec_child", exec_body, NULL));
  observe("parent_minflt", write_pages(shared_buf, n_pages, 3));
}

// 8. soft-dirty tracking (clear_refs 4) write-protects exclusive pages; writes: N reuses.
static void wl_softdirty(void) {
  char *p = populated_pages(n_pages);
  int fd = open("/proc/self/clear_refs", O_WRONLY);
  if (fd < 0 || write(fd, "4", 1) != 1) return fail("clear_refs: %s", strerror(errno));
  close(fd);
  observe("write_minflt", write_pages(p, n_pages, 6));
}

// ---------------------------------------------------------------------------------------------
// Oracle workloads (page_oracle.h): each page's fate and reason derived from pagemap/kpageflags/
// kpagecount around the write, independently of cowwatch; results as PREFIX_copied_*=, _reused=.

// Writes a sysfs/procfs file; returns 0 or -1 (errno kept).
static int write_file(const char *path, const char *value) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  ssize_t w = write(fd, value, strlen(value));
  int saved = errno;
  close(fd);
  errno = saved;
  return w == (ssize_t)strlen(value) ? 0 : -1;
}

static void read_file(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY);
  ssize_t r = fd >= 0 ? read(fd, buf, len - 1) : -1;
  buf[r > 0 ? r : 0] = 0;
  if (fd >= 0) close(fd);
}

#define KSM_SYSFS "/sys/kernel/mm/ksm/"

// KSM knobs this workload changes, restored by ksm_stop() (the host tier runs it on a real host).
static const char *const ksm_knobs[] = {KSM_SYSFS "run", KSM_SYSFS "pages_to_scan", KSM_SYSFS "sleep_millisecs"};
static char ksm_saved[3][32];

// KSM-merge [p, p + n pages): MADV_MERGEABLE, ksmd running fast, then poll kpageflags until every
// page is a KSM page (two ksmd passes: a page merges once its checksum held for a whole scan).
// Returns the pages merged; ksmd keeps running until ksm_stop().
static long ksm_merge(char *p, long n) {
  if (access(KSM_SYSFS "run", W_OK) != 0) return fail("no KSM (%s): %s", KSM_SYSFS "run", strerror(errno)), 0;
  for (long i = 0; i < n; i++) memset(p + i * PAGE, (int)(i / 2 % 250) + 1, PAGE);  // pairs of twins
  if (madvise(p, (size_t)n * PAGE, MADV_MERGEABLE) != 0) return fail("MADV_MERGEABLE: %s", strerror(errno)), 0;
  for (int k = 0; k < 3; k++) read_file(ksm_knobs[k], ksm_saved[k], sizeof ksm_saved[k]);
  if (write_file(KSM_SYSFS "pages_to_scan", "4096") || write_file(KSM_SYSFS "sleep_millisecs", "10") ||
      write_file(KSM_SYSFS "run", "1"))
    return fail("start ksmd: %s", strerror(errno)), 0;
  struct page_snap *s = snap_alloc(n);
  long merged = 0;
  for (int polls = 0; polls < 3000 && merged < n; polls++) {  // up to 60 s under TCG
    usleep(20 * 1000);
    if (snap_pages(p, n, s) != 0) break;
    merged = 0;
    for (long i = 0; i < n; i++) merged += s[i].ksm;
  }
  char scans[32];
  read_file(KSM_SYSFS "full_scans", scans, sizeof scans);
  observe("ksm_full_scans", atol(scans));
  observe("ksm_merged", merged);
  if (merged < n) fail("KSM merged %ld of %ld pages", merged, n);
  munmap(s, (size_t)n * sizeof *s);
  return merged;
}

// Stops ksmd unless it ran before (merged pages stay merged), and restores its knobs.
static void ksm_stop(void) {
  for (int k = 2; k >= 0; k--)
    if (ksm_saved[k][0]) write_file(ksm_knobs[k], ksm_saved[k]);
}

// Counts pages that were KSM pages in `before` and have a new pfn in `after`.
static long ksm_broken(const struct page_snap *before, const struct page_snap *after, long n) {
  long broken = 0;
  for (long i = 0; i < n; i++) broken += before[i].ksm && after[i].pfn != before[i].pfn;
  return broken;
}

// 10a. KSM write COW: merge, then write every page: N copies, reason ksm, no unmerges.
static void wl_ksm_write(void) {
  char *p = alloc_pages(n_pages);
  if (ksm_merge(p, n_pages) != n_pages) return ksm_stop();
  ksm_stop();
  struct page_snap *before = snap_alloc(n_pages), *after = snap_alloc(n_pages);
  snap_pages(p, n_pages, before);
  observe("write_minflt", write_pages(p, n_pages, 7));
  snap_pages(p, n_pages, after);
  struct oracle_counts c = oracle_classify(before, after, n_pages, 0);
  observe_oracle("write", &c);
}

// 10b. KSM unmerge: merge, then MADV_UNMERGEABLE: break_ksm copies every page (6.1 with write
//      faults, 6.12/7.2 with FAULT_FLAG_UNSHARE faults), taken by this process: ksm unmerges, no
//      GUP unshares.
static void wl_ksm_unmerge(void) {
  char *p = alloc_pages(n_pages);
  if (ksm_merge(p, n_pages) != n_pages) return ksm_stop();
  ksm_stop();
  struct page_snap *before = snap_alloc(n_pages), *after = snap_alloc(n_pages);
  snap_pages(p, n_pages, before);
  if (madvise(p, (size_t)n_pages * PAGE, MADV_UNMERGEABLE) != 0) fail("MADV_UNMERGEABLE: %s", strerror(errno));
  snap_pages(p, n_pages, after);
  observe("ksm_unmerged", ksm_broken(before, after, n_pages));
}

// 10c. R/O GUP pin of KSM pages: process_vm_readv of this process's own merged pages: GUP unshares
//      (gup_must_unshare: a KSM page is never PageAnonExclusive), not KSM unmerges.
static void wl_ksm_pin(void) {
  char *p = alloc_pages(n_pages), *dst = populated_pages(n_pages);
  if (ksm_merge(p, n_pages) != n_pages) return ksm_stop();
  ksm_stop();
  struct page_snap *before = snap_alloc(n_pages), *after = snap_alloc(n_pages);
  snap_pages(p, n_pages, before);
  struct iovec local = {.iov_base = dst, .iov_len = (size_t)n_pages * PAGE};
  struct iovec remote = {.iov_base = p, .iov_len = (size_t)n_pages * PAGE};
  if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0) fail("process_vm_readv: %s", strerror(errno));
  snap_pages(p, n_pages, after);
  observe("ksm_unshared", ksm_broken(before, after, n_pages));
}

// 11. A THP shared by fork: the child writes 513 pages (a whole THP and the first page of the
//     next) and exits, then the parent rewrites them. pte: the parent's PMDs were split into PTEs
//     before the fork (mprotect of one page), so every write is a do_wp_page on a page of a large
//     folio: the child's are shared; the parent's follow each kernel's large-folio rule (6.1
//     copies all but the folio's last mapping, 6.12 copies all, 7.2 reuses). pmd: the parent
//     keeps its PMDs: the child's pages are shared through the entire (PMD) mapcount, and the
//     parent reuses whole PMDs (do_huge_pmd_wp_page: no per-page decisions).
enum { THP_PAGES = HUGE / PAGE, THP_WRITES = THP_PAGES + 1 };
static char *thp_buf;

static void thp_write_observed(const char *prefix, char value) {
  struct page_snap *before = snap_alloc(THP_WRITES), *after = snap_alloc(THP_WRITES);
  int pmd_mapped = anon_huge_bytes(thp_buf) >= 2 * HUGE;  // both THPs mapped by PMDs here
  snap_pages(thp_buf, THP_WRITES, before);
  write_pages(thp_buf, THP_WRITES, value);
  snap_pages(thp_buf, THP_WRITES, after);
  struct oracle_counts c = oracle_classify(before, after, THP_WRITES, pmd_mapped);
  observe_oracle(prefix, &c);
}

static int thp_child_body(void *arg) {
  (void)arg;
  thp_write_observed("child", 2);
  return 0;
}

static void thp_fork(int split_parent) {
  char mode[128];
  read_file("/sys/kernel/mm/transparent_hugepage/enabled", mode, sizeof mode);
  int enabled_thp = strstr(mode, "[never]") != NULL;
  if (enabled_thp && write_file("/sys/kernel/mm/transparent_hugepage/enabled", "madvise") != 0)
    return fail("THP disabled and cannot be enabled: %s", strerror(errno));
  // The setup is retried on a fresh mapping (at most 3 times) when the kernel did not give two
  // whole THPs: on the CI host something outside the test split one once (478 of 1024 pages),
  // with free order-9 blocks to spare. The writes that are judged below happen once.
  struct page_snap *s = snap_alloc(2 * THP_PAGES);
  long thp = 0;
  int attempts = 0;
  while (attempts < 3 && thp != 2 * THP_PAGES) {
    if (attempts++) munmap(thp_buf, 2 * THP_PAGES * PAGE);
    int saved_thp = use_thp;
    use_thp = 1;
    thp_buf = alloc_pages(2 * THP_PAGES);
    use_thp = saved_thp;
    write_pages(thp_buf, 2 * THP_PAGES, 1);
    if (split_parent)
      for (int t = 0; t < 2; t++)
        if (mprotect(thp_buf + t * HUGE, PAGE, PROT_READ) ||
            mprotect(thp_buf + t * HUGE, PAGE, PROT_READ | PROT_WRITE))
          return fail("mprotect: %s", strerror(errno));
    snap_pages(thp_buf, 2 * THP_PAGES, s);
    thp = 0;
    for (long i = 0; i < 2 * THP_PAGES; i++) thp += KPF(s[i].flags, KPF_THP);
  }
  observe("thp_pages", thp);
  observe("thp_setup_attempts", attempts);
  if (thp != 2 * THP_PAGES) fail("only %ld of %d pages are THP pages after %d attempts", thp, 2 * THP_PAGES, attempts);
  wait_child(fork_child(split_parent ? "wl_thp_child" : "wl_thpmd_child", thp_child_body, NULL));
  thp_write_observed("parent", 3);
  if (enabled_thp) write_file("/sys/kernel/mm/transparent_hugepage/enabled", "never");
}

static void wl_thp_fork_pte(void) { thp_fork(1); }
static void wl_thp_fork_pmd(void) { thp_fork(0); }

// Noise reference: fork + child exit (≈ 8 faults on the runner's own stack/data).
static void wl_baseline(void) { wait_child(fork_child("wl_base_child", NULL, NULL)); }

// ---------------------------------------------------------------------------------------------
// Whose memory: swap adds by another process's reclaim, cgroup moves (CWWL_CGROUP_ROOT required).

// Moves the calling process into ROOT/<name> (created if needed). 0 on success.
static int enter_cgroup(const char *name) {
  const char *root = getenv("CWWL_CGROUP_ROOT");
  char path[512];
  if (!root || !*root) {
    fail("CWWL_CGROUP_ROOT is not set");
    return -1;
  }
  snprintf(path, sizeof path, "%s/%s", root, name);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    fail("mkdir %s: %s", path, strerror(errno));
    return -1;
  }
  snprintf(path, sizeof path, "%s/%s/cgroup.procs", root, name);
  int fd = open(path, O_WRONLY);
  int ok = fd >= 0 && write(fd, "0", 1) == 1;
  if (!ok) fail("join %s: %s", path, strerror(errno));
  if (fd >= 0) close(fd);
  return ok ? 0 : -1;
}

// These workloads need cgroups of their own: without CWWL_CGROUP_ROOT (the host-kernel run) they
// do nothing and say so; their table rows are vm_only.
static int have_cgroup_root(void) {
  const char *root = getenv("CWWL_CGROUP_ROOT");
  if (root && *root) return 1;
  observe("no_cgroup_root", 1);
  return 0;
}

// A child that runs between two pipe handshakes: `ready` (child -> parent), `go` (parent -> child).
struct handshake {
  int ready[2], go[2];
  char *pages;
};

static int handshake_open(struct handshake *h) {
  if (pipe(h->ready) == 0 && pipe(h->go) == 0) return 0;
  fail("pipe: %s", strerror(errno));
  return -1;
}

static void handshake_signal(int fd) {
  char c = 1;
  if (write(fd, &c, 1) != 1) fail("handshake write: %s", strerror(errno));
}

static void handshake_wait(int fd) {
  char c;
  while (read(fd, &c, 1) < 0 && errno == EINTR) {
  }
}

// 10. remote MADV_PAGEOUT: a child (wl_rpo_owner) moves into cgroup wl_remote_pageout_owner and
//     populates N pages; the runner (wl_rpo_caller, cgroup wl_remote_pageout) pages them out with
//     pidfd_open + process_madvise (5.10+). The pages are the child's and its memcg's: the child's
//     own VmSwap growth is the truth; the caller's VmSwap stays 0.
static int rpo_owner_body(void *arg) {
  struct handshake *h = arg;
  if (enter_cgroup("wl_remote_pageout_owner") != 0) return 3;
  h->pages = populated_pages(n_pages);
  long before = vmswap_kb();
  if (write(h->ready[1], &h->pages, sizeof h->pages) != sizeof h->pages) return 4;
  handshake_wait(h->go[0]);
  observe("owner_swapped_pages", (vmswap_kb() - before) * 1024 / PAGE);
  return 0;
}

static void wl_remote_pageout(void) {
  if (!have_cgroup_root()) return;
  struct handshake h;
  if (handshake_open(&h) != 0) return;
  pid_t owner = fork_child("wl_rpo_owner", rpo_owner_body, &h);
  char *pages = NULL;
  if (owner < 0 || read(h.ready[0], &pages, sizeof pages) != sizeof pages) return fail("owner did not start");
  int pidfd = (int)syscall(SYS_pidfd_open, owner, 0);
  struct iovec iov = {.iov_base = pages, .iov_len = (size_t)n_pages * PAGE};
  long advised = pidfd < 0 ? -1 : syscall(SYS_process_madvise, pidfd, &iov, 1, MADV_PAGEOUT, 0);
  if (advised < 0) fail("pidfd_open/process_madvise: %s", strerror(errno));
  observe("advised_bytes", advised);
  observe("caller_vmswap_kb", vmswap_kb());
  handshake_signal(h.go[1]);
  wait_child(owner);
  if (pidfd >= 0) close(pidfd);
}

// 11. memcg reclaim by another process: the runner (wl_mcg_owner) forks a child (wl_mcg_reclaim),
//     which moves into wl_memcg_reclaim_by, then moves itself into a fresh cgroup
//     wl_memcg_reclaim_owner (so that memcg holds the runner's pages alone, none of the child's)
//     and populates N pages; the child writes N pages' bytes to its memory.reclaim (5.19+): the
//     runner's memcg is reclaimed in the child's context. Truth: the runner's VmSwap growth, read
//     by the child while the runner waits (untouched: none of its swapped pages is faulted back).
static int mcg_reclaimer_body(void *arg) {
  struct handshake *h = arg;
  char path[512], bytes[32];
  if (enter_cgroup("wl_memcg_reclaim_by") != 0) return 3;
  handshake_signal(h->ready[1]);
  handshake_wait(h->go[0]);
  snprintf(path, sizeof path, "%s/wl_memcg_reclaim_owner/memory.reclaim", getenv("CWWL_CGROUP_ROOT"));
  int len = snprintf(bytes, sizeof bytes, "%ld", n_pages * PAGE);
  int fd = open(path, O_WRONLY);
  if (fd < 0 && errno == ENOENT) {  // no memory.reclaim before 5.19: nothing is reclaimed
    observe("memory_reclaim_file", 0);
    observe("owner_swapped_pages", 0);
    return 0;
  }
  if (fd < 0) return 4;
  observe("memory_reclaim_file", 1);
  long before = vmswap_kb_of(getppid());
  // EAGAIN: less than asked could be reclaimed; what was swapped is still the truth
  observe("reclaim_errno", write(fd, bytes, (size_t)len) == len ? 0 : errno);
  close(fd);
  observe("owner_swapped_pages", (vmswap_kb_of(getppid()) - before) * 1024 / PAGE);
  return 0;
}

static void wl_memcg_reclaim(void) {
  if (!have_cgroup_root()) return;
  struct handshake h;
  if (handshake_open(&h) != 0) return;
  pid_t reclaimer = fork_child("wl_mcg_reclaim", mcg_reclaimer_body, &h);
  handshake_wait(h.ready[0]);
  if (enter_cgroup("wl_memcg_reclaim_owner") != 0) return;
  populated_pages(n_pages);
  handshake_signal(h.go[1]);
  wait_child(reclaimer);
}

// 12. the runner (wl_cgmove) makes N/4 zero-page copies in cgroup wl_cgroup_move, moves itself
//     into wl_cgroup_move_new (cgroup.procs) and at once makes N more: each cgroup gets its own.
static void wl_cgroup_move(void) {
  if (!have_cgroup_root()) return;
  long before_n = n_pages / 4;
  char *p = alloc_pages(before_n + n_pages);
  read_pages(p, before_n + n_pages);
  observe("before_minflt", write_pages(p, before_n, 1));
  if (enter_cgroup("wl_cgroup_move_new") != 0) return;
  observe("after_minflt", write_pages(p + before_n * PAGE, n_pages, 1));
}

// 10. short-lived renamed children under pid wrap: with CWWL_PID_MAX set (the VM sets 400; the
// runner restores the old value), the runner forks SL_KIDS children, up to SL_ALIVE at a time; each
// renames itself (prctl) to wl_sl_kid, writes n/8 of the runner's populated pages (COW copies,
// reason shared) and exits. Each child counts its own faults; the sums and each child's
// (pid, start time, faults) are the ground truth for the per-comm series and `cowwatch run`.
enum { SL_KIDS = 300, SL_ALIVE = 50 };

static int wait_any_child(void) {  // reaps one child; 1 when one was reaped
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, 0)) < 0 && errno == EINTR) {
  }
  if (pid > 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) fail("child %d: status 0x%x", pid, status);
  return pid > 0;
}

struct sl_kid {
  long pid, start_ticks, minflt, copies;
};

static struct sl_kid *sl_kids;  // MAP_SHARED, pre-faulted by the runner

static long start_ticks(void) {  // field 22 of /proc/self/stat
  char buf[512];
  int fd = open("/proc/self/stat", O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
  return p ? strtol(p + 1, NULL, 10) : -1;
}

static int sl_kid_body(void *arg) {
  struct sl_kid *slot = arg;
  long copies = write_pages(shared_buf, n_pages / 8, 4);
  long minflt_total = minflt();  // every fault of this child so far (counted from its fork)
  slot->pid = getpid();          // first touch of the shared slot: after the count
  slot->start_ticks = start_ticks();
  slot->minflt = minflt_total;
  slot->copies = copies;
  return 0;
}

static long set_pid_max(const char *value) {  // returns the old value, or -1
  char old[32] = {0};
  int fd = open("/proc/sys/kernel/pid_max", O_RDWR);
  if (fd < 0 || read(fd, old, sizeof old - 1) <= 0 || lseek(fd, 0, SEEK_SET) != 0 ||
      write(fd, value, strlen(value)) < 0) {
    fail("pid_max %s: %s", value, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return strtol(old, NULL, 10);
}

static void wl_short_lived(void) {
  shared_buf = populated_pages(n_pages);
  sl_kids = mmap(NULL, SL_KIDS * sizeof *sl_kids, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sl_kids == MAP_FAILED) return fail("mmap: %s", strerror(errno));
  memset(sl_kids, 0, SL_KIDS * sizeof *sl_kids);
  const char *pid_max = getenv("CWWL_PID_MAX");
  long old_pid_max = pid_max ? set_pid_max(pid_max) : -1;
  pid_t pids[SL_KIDS];
  int alive = 0;
  for (int i = 0; i < SL_KIDS; i++) {
    if (alive == SL_ALIVE) alive -= wait_any_child();
    pids[i] = fork_child("wl_sl_kid", sl_kid_body, &sl_kids[i]);
    alive += pids[i] > 0;
  }
  while (alive > 0) alive -= wait_any_child();
  if (old_pid_max > 0) {
    char value[32];
    snprintf(value, sizeof value, "%ld", old_pid_max);
    set_pid_max(value);
  }
  long kids = 0, kids_minflt = 0, kids_copies = 0, pids_reused = 0;
  for (int i = 0; i < SL_KIDS; i++) {
    if (sl_kids[i].pid <= 0) continue;
    kids++;
    kids_minflt += sl_kids[i].minflt;
    kids_copies += sl_kids[i].copies;
    for (int j = 0; j < i; j++)
      if (pids[j] == pids[i]) {
        pids_reused++;
        break;
      }
    printf("cwwl kid pid=%ld start_ticks=%ld minflt=%ld copies=%ld\n", sl_kids[i].pid, sl_kids[i].start_ticks,
           sl_kids[i].minflt, sl_kids[i].copies);
  }
  fflush(stdout);
  observe("kids", kids);
  observe("kids_minflt", kids_minflt);
  observe("kids_copies", kids_copies);
  observe("pids_reused", pids_reused);
  observe("pid_max", pid_max ? strtol(pid_max, NULL, 10) : 0);
}

struct workload {
  const char *name;
  const char *comm;  // the runner's comm
  void (*run)(void);
};

static const struct workload workloads[] = {
    {"baseline", "wl_base_parent", wl_baseline},
    {"cow_child", "wl_cow_parent", wl_cow_child},
    {"cow_reuse", "wl_reuse_parent", wl_cow_reuse},
    {"zero_page", "wl_zero", wl_zero_page},
    {"file_private", "wl_file", wl_file_private},
    {"unshare_pvr", "wl_pvr_reader", wl_unshare_pvr},
    {"unshare_odirect", "wl_odio", wl_unshare_odirect},
    {"unshare_loop", "wl_storm_reader", wl_unshare_loop},
    {"iouring_fork", "wl_pin_parent", wl_iouring_fork},
    {"iouring_dontfork", "wl_pindf_parent", wl_iouring_dontfork},
    {"pageout", "wl_pageout", wl_pageout},
    {"pinned_pageout", "wl_pin_pageout", wl_pinned_pageout},
    {"vmsplice_ref", "wl_vsp_parent", wl_vmsplice_ref},
    {"softdirty", "wl_softdirty", wl_softdirty},
    {"exec", "wl_exec_parent", wl_exec},
    {"ksm_write", "wl_ksm_writer", wl_ksm_write},
    {"ksm_unmerge", "wl_ksm_unmerger", wl_ksm_unmerge},
    {"ksm_pin", "wl_ksm_pinned", wl_ksm_pin},
    {"thp_fork_pte", "wl_thp_parent", wl_thp_fork_pte},
    {"thp_fork_pmd", "wl_thpmd_parent", wl_thp_fork_pmd},
    {"remote_pageout", "wl_rpo_caller", wl_remote_pageout},
    {"memcg_reclaim", "wl_mcg_owner", wl_memcg_reclaim},
    {"cgroup_move", "wl_cgmove", wl_cgroup_move},
    {"short_lived", "wl_sl_parent", wl_short_lived},
};

// ---------------------------------------------------------------------------------------------
// /proc/vmstat deltas around a workload

static const char *const vmstat_keys[] = {"pgreuse", "pswpout", "nr_foll_pin_acquired", "nr_foll_pin_released",
                                          "thp_fault_alloc", "pgfault"};
enum { N_VMSTAT = sizeof vmstat_keys / sizeof vmstat_keys[0] };

static void read_vmstat(long values[N_VMSTAT]) {
  char name[64];
  long v;
  for (int i = 0; i < N_VMSTAT; i++) values[i] = -1;
  FILE *f = fopen("/proc/vmstat", "r");
  if (!f) return;
  while (fscanf(f, "%63s %ld", name, &v) == 2)
    for (int i = 0; i < N_VMSTAT; i++)
      if (strcmp(name, vmstat_keys[i]) == 0) values[i] = v;
  fclose(f);
}

// With CWWL_CGROUP_ROOT set (a cgroup2 mount with +memory in its subtree_control), each runner moves
// itself into ROOT/wl_<workload> so that memcg-attributed events (swap) can be checked per cgroup.
static void join_cgroup(const char *workload) {
  const char *root = getenv("CWWL_CGROUP_ROOT");
  if (!root || !*root) return;
  char name[256];
  snprintf(name, sizeof name, "wl_%s", workload);
  if (enter_cgroup(name) == 0) observe("in_cgroup", 1);
}

static int run_workload(const struct workload *w) {
  memset(obs, 0, sizeof *obs);
  long before[N_VMSTAT], after[N_VMSTAT];
  read_vmstat(before);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    set_comm(w->comm);
    join_cgroup(w->name);
    w->run();
    _exit(obs->failure[0] ? 1 : 0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  read_vmstat(after);
  int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !obs->failure[0];
  printf("cwwl result workload=%s n=%ld comm=%s status=%s", w->name, n_pages, w->comm, ok ? "ok" : "fail");
  for (int i = 0; i < obs->count; i++) printf(" %s=%ld", obs->items[i].key, obs->items[i].value);
  for (int i = 0; i < N_VMSTAT; i++)
    if (before[i] >= 0 && after[i] >= 0) printf(" vm_%s=%ld", vmstat_keys[i], after[i] - before[i]);
  if (!ok) printf(" error=\"%s (exit status 0x%x)\"", obs->failure, status);
  printf("\n");
  fflush(stdout);
  return ok ? 0 : 1;
}

static void usage(void) {
  fprintf(stderr, "usage: cwwl [-n PAGES] [-t] WORKLOAD...|all|list|progmisses\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], CWWL_EXEC_TAIL) == 0) return exec_tail(strtol(argv[2], NULL, 10));
  if (argc == 2 && strcmp(argv[1], "progmisses") == 0) return print_prog_misses();
  int opt;
  while ((opt = getopt(argc, argv, "n:t")) != -1) {
    if (opt == 'n')
      n_pages = strtol(optarg, NULL, 10);
    else if (opt == 't')
      use_thp = 1;
    else
      usage();
  }
  if (optind >= argc || n_pages <= 0) usage();
  const size_t n_workloads = sizeof workloads / sizeof workloads[0];
  if (strcmp(argv[optind], "list") == 0) {
    for (size_t i = 0; i < n_workloads; i++) printf("%s %s\n", workloads[i].name, workloads[i].comm);
    return 0;
  }
  obs = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (obs == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  memset(obs, 0, PAGE);  // fault it in now: later writes from children take no fault
  setvbuf(stdout, NULL, _IOLBF, 0);
  int failures = 0;
  for (int a = optind; a < argc; a++) {
    int matched = 0;
    for (size_t i = 0; i < n_workloads; i++) {
      if (strcmp(argv[a], "all") == 0 || strcmp(argv[a], workloads[i].name) == 0) {
        failures += run_workload(&workloads[i]);
        matched = 1;
      }
    }
    if (!matched) {
      fprintf(stderr, "cwwl: unknown workload %s\n", argv[a]);
      failures++;
    }
  }
  return failures ? 1 : 0;
}
