#include "app/config_mapping.h"

namespace cowwatch::app {

loader::KernelOptions kernel_options(const config::Config& c) {
  loader::KernelOptions k;
  k.event_mode = static_cast<uint32_t>(c.bpf.events);
  k.sample_every = c.bpf.sample_every;
  k.ring_bytes = static_cast<uint32_t>(c.bpf.ring_buffer_size);
  k.ctl_ring_bytes = static_cast<uint32_t>(c.bpf.control_ring_size);
  k.max_processes = c.limits.max_tracked_processes;
  k.disabled_hooks = c.probes.disabled;
  switch (c.probes.prefer) {
    case config::ProbeRung::kAuto: k.prefer = probe::RungPreference::kAuto; break;
    case config::ProbeRung::kFentry: k.prefer = probe::RungPreference::kFentry; break;
    case config::ProbeRung::kKprobe: k.prefer = probe::RungPreference::kKprobe; break;
  }
  return k;
}

Level to_level(config::LogLevel l) {
  switch (l) {
    case config::LogLevel::kDebug: return Level::kDebug;
    case config::LogLevel::kInfo: return Level::kInfo;
    case config::LogLevel::kWarning: return Level::kWarning;
    case config::LogLevel::kError: return Level::kError;
  }
  return Level::kInfo;
}

}  // namespace cowwatch::app
