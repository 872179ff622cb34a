// A child that writes one byte to each of N pages and exits, created straight into a cgroup, whose
// write faults on those pages are all it makes in user mode.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace cowwatch::bench {

// clone3(CLONE_INTO_CGROUP) into the cgroup v2 directory `cgroup_fd`. The child runs no C++ and no
// libc: a loop of `pages` one-byte stores, `stride` bytes apart from `base`, then exit_group(0);
// it never touches its stack. So a child of a parent whose pages at `base` were present and
// writable makes exactly `pages` user-mode write faults on present pages (each a COW copy: the
// parent still maps the page), and no other user write fault. Returns the child's pid, or -1
// with errno set (ENOSYS where clone3 or CLONE_INTO_CGROUP is missing). x86-64 only.
pid_t clone_page_writer(int cgroup_fd, char* base, size_t pages, size_t stride);

}  // namespace cowwatch::bench
