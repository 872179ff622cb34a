// Thin wrappers over the system services the daemon uses: sd_notify, socket activation,
// capabilities.
#pragma once

#include <chrono>
#include <string>

namespace cowwatch::app {

// sd_notify() wrappers; no-ops outside systemd.
void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();
void notify_watchdog();
// STATUS= alone: why start-up failed, shown by `systemctl status` next to the exit code.
void notify_status(const std::string& status);
// The watchdog interval systemd asked for (WatchdogSec), or zero.
std::chrono::microseconds watchdog_interval();

// The control socket handed over by the service manager (socket activation: cowwatch.socket
// created it with its owner, group and mode). Sets *fd to it, or to -1 when nothing was passed
// (cowwatchd then creates the socket itself). False with *error when the passed descriptors are
// not exactly one listening Unix stream socket. Call before any thread starts: it unsets
// LISTEN_PID/LISTEN_FDS.
bool take_activation_socket(int* fd, std::string* error);

// Empties the effective, permitted, inheritable and ambient capability sets, and the bounding set
// when the process holds CAP_SETPCAP (root does; the systemd unit does not grant it, so there the
// bounding set keeps the unit's CapabilityBoundingSet=, which NoNewPrivileges makes unusable).
// Called after the probes are attached and the sockets bound: reading maps and rings through open
// fds, /proc and /sys/fs/cgroup needs none, except on kernels that check every bpf() call for
// CAP_BPF (5.10 with kernel.unprivileged_bpf_disabled set): there CAP_BPF alone stays effective.
// Returns false with *error when the kernel refused.
bool drop_all_capabilities(std::string* error);

// A capability line of /proc/self/status ("CapEff", "CapBnd") as the kernel reports it (hex), for
// logs and tests.
std::string capability_set(const std::string& name);

}  // namespace cowwatch::app
