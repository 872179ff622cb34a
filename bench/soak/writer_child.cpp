#include "soak/writer_child.h"

#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#if !defined(__x86_64__)
#error "clone_page_writer is written for x86-64 (the host's tracepoint rung is x86-only)"
#endif

namespace cowwatch::bench {

pid_t clone_page_writer(int cgroup_fd, char* base, size_t pages, size_t stride) {
  struct clone_args args;
  std::memset(&args, 0, sizeof args);
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = uint64_t(cgroup_fd);
  if (pages == 0) return errno = EINVAL, -1;
  long ret;
  // The child resumes after `syscall` with every register but rax/rcx/r11 as the parent left
  // them: r8 (next page), r9 (pages left) and r10 (stride) drive its loop; it ends in exit_group.
  // The parent falls through to label 2 with rax = pid or -errno.
  register char* r8 asm("r8") = base;
  register size_t r9 asm("r9") = pages;
  register size_t r10 asm("r10") = stride;
  asm volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 2f\n\t"
      "1:\n\t"
      "movb $1, (%%r8)\n\t"
      "add %%r10, %%r8\n\t"
      "dec %%r9\n\t"
      "jnz 1b\n\t"
      "mov %[exit_group], %%eax\n\t"
      "xor %%edi, %%edi\n\t"
      "syscall\n\t"
      "ud2\n\t"
      "2:\n\t"
      : "=a"(ret), "+r"(r8), "+r"(r9), "+r"(r10)
      : "0"(long(SYS_clone3)), "D"(&args), "S"(sizeof args), [exit_group] "i"(SYS_exit_group)
      : "rcx", "r11", "memory");
  if (ret < 0) return errno = int(-ret), -1;
  return pid_t(ret);
}

}  // namespace cowwatch::bench
