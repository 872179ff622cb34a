// pin_fork: a workload for the fork_with_pins anomaly, with raw syscalls (no liburing).
//
// Registers anonymous memory as io_uring fixed buffers, which pins it long-term
// (FOLL_LONGTERM: mm->pinned_vm > 0 and MMF_HAS_PINNED set), then forks FORKS times. Each
// child writes to one page of the pinned buffer (forcing the copy the kernel made eagerly at
// fork to be visible) and lives CHILD_MS milliseconds. Prints the VmPin line of the parent
// before forking so a test can check the pin really exists.
//
// usage: pin_fork [FORKS=3] [CHILD_MS=200]
// exit: 0 ok, 77 io_uring unavailable here (disabled, seccomp), 1 other failure.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kBufferPages = 16 };

static long pin_buffers(void *buffer, size_t length, int *ring_fd) {
  struct io_uring_params params;
  memset(&params, 0, sizeof(params));
  int fd = (int)syscall(__NR_io_uring_setup, 4, &params);
  if (fd < 0) return -errno;
  struct iovec iov = {.iov_base = buffer, .iov_len = length};
  if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1) < 0) {
    int saved = errno;
    close(fd);
    return -saved;
  }
  *ring_fd = fd;
  return 0;
}

static void print_vm_pin(void) {
  FILE *status = fopen("/proc/self/status", "r");
  if (!status) return;
  char line[256];
  while (fgets(line, sizeof(line), status))
    if (strncmp(line, "VmPin:", 6) == 0) fputs(line, stdout);
  fclose(status);
  fflush(stdout);
}

static void sleep_ms(long ms) {
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int main(int argc, char **argv) {
  int forks = argc > 1 ? atoi(argv[1]) : 3;
  long child_ms = argc > 2 ? atol(argv[2]) : 200;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t length = kBufferPages * page;

  char *buffer = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (buffer == MAP_FAILED) {
    perror("pin_fork: mmap");
    return 1;
  }
  memset(buffer, 0x5a, length);

  int ring_fd = -1;
  long err = pin_buffers(buffer, length, &ring_fd);
  if (err == -ENOSYS || err == -EPERM || err == -EACCES) {
    fprintf(stderr, "pin_fork: SKIP: io_uring unavailable: %s\n", strerror((int)-err));
    return 77;
  }
  if (err < 0) {
    fprintf(stderr, "pin_fork: io_uring buffer registration failed: %s\n", strerror((int)-err));
    return 1;
  }
  print_vm_pin();

  for (int i = 0; i < forks; i++) {
    pid_t child = fork();
    if (child < 0) {
      perror("pin_fork: fork");
      return 1;
    }
    if (child == 0) {
      buffer[(size_t)(i % kBufferPages) * page] = (char)i;
      sleep_ms(child_ms);
      _exit(0);
    }
    int status = 0;
    if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "pin_fork: child %d failed\n", (int)child);
      return 1;
    }
  }
  printf("pin_fork: %d forks with %zu pinned bytes\n", forks, length);
  close(ring_fd);
  munmap(buffer, length);
  return 0;
}
