// Thin wrappers over the system services the daemon uses: sd_notify, capabilities, mounts.
#pragma once

#include <chrono>
#include <string>

namespace cowwatch::app {

// sd_notify() wrappers; no-ops outside systemd.
void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();
void notify_watchdog();
// The watchdog interval systemd asked for (WatchdogSec), or zero.
std::chrono::microseconds watchdog_interval();

// Drops every capability (effective, permitted, inheritable, bounding and ambient). Called after
// the probes are attached and the sockets bound: reading maps and rings through open fds, /proc
// and /sys/fs/cgroup needs none. Returns false with *error when the kernel refused.
bool drop_all_capabilities(std::string* error);

// CapEff of this process as the kernel reports it in /proc/self/status (hex), for logs and tests.
std::string effective_capabilities();

}  // namespace cowwatch::app
