#include "app/system.h"

#include <cap-ng.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <fstream>

namespace cowwatch::app {

void notify_ready(const std::string& status) { sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str()); }
void notify_reloading() { sd_notify(0, "RELOADING=1"); }
void notify_stopping() { sd_notify(0, "STOPPING=1"); }
void notify_watchdog() { sd_notify(0, "WATCHDOG=1"); }
void notify_status(const std::string& status) { sd_notifyf(0, "STATUS=%s", status.c_str()); }

std::chrono::microseconds watchdog_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) return std::chrono::microseconds(usec);
  return std::chrono::microseconds(0);
}

bool take_activation_socket(int* fd, std::string* error) {
  *fd = -1;
  int n = sd_listen_fds(1);
  if (n == 0) return true;
  if (n != 1 || sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, nullptr, 0) <= 0) {
    *error = "socket activation: expected one listening Unix stream socket, got " +
             (n < 0 ? std::string("an invalid LISTEN_FDS") : std::to_string(n) + " descriptor(s)");
    return false;
  }
  *fd = SD_LISTEN_FDS_START;
  return true;
}

namespace {

// Kernels before 6.x (5.10 measured) refuse every bpf() call of a caller without CAP_BPF at the
// syscall's entry while kernel.unprivileged_bpf_disabled is set (Debian: 2), even a lookup in a
// map it already holds open; newer kernels check only loads and map creation. Asked of the kernel
// with CAP_BPF not effective: a lookup in fd -1 fails EBADF past that check, EPERM at it.
bool bpf_syscall_needs_capability() {
  union bpf_attr attr {};
  attr.map_fd = uint32_t(-1);
  long r = syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr));
  return r < 0 && errno == EPERM;
}

}  // namespace

bool drop_all_capabilities(std::string* error) {
  // Lowering the bounding set needs CAP_SETPCAP. Asking libcap-ng to do it without makes 0.8.3
  // (Debian 12) log "failed dropping bounding set" at error priority before it carries on, so ask
  // only when the process holds it.
  if (capng_get_caps_process() != 0) {
    *error = "cannot read this process's capabilities";
    return false;
  }
  const bool bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
  const bool had_bpf = capng_have_capability(CAPNG_PERMITTED, CAP_BPF) ||
                       capng_have_capability(CAPNG_PERMITTED, CAP_SYS_ADMIN);
  capng_clear(CAPNG_SELECT_BOTH);
  // CAP_BPF stays permitted (not effective) until the kernel says whether reading the maps needs it.
  if (had_bpf) capng_update(CAPNG_ADD, CAPNG_PERMITTED, CAP_BPF);
  // Lowering permitted and inheritable also empties the ambient set (the kernel keeps ambient a
  // subset of both).
  if (capng_apply(bounding ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS) != 0) {
    *error = "capng_apply failed";
    return false;
  }
  if (!had_bpf) return true;
  if (bpf_syscall_needs_capability()) {
    capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_BPF);  // the daemon reads its counter maps each poll
  } else {
    capng_clear(CAPNG_SELECT_CAPS);
  }
  if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
    *error = "capng_apply failed";
    return false;
  }
  return true;
}

std::string capability_set(const std::string& name) {
  std::ifstream f("/proc/self/status");
  const std::string key = name + ":";
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return line.substr(line.find_first_not_of(" \t", key.size()));
  return "";
}

}  // namespace cowwatch::app
