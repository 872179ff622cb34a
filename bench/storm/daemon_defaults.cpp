#include "storm/daemon_defaults.h"

#include "config/config.h"

namespace cowwatch::bench {

DaemonDefaults daemon_defaults(probe::RungPreference prefer) {
  const config::Config& c = config::default_config();
  DaemonDefaults d;
  d.options.event_mode = uint32_t(c.bpf.events);
  d.options.sample_every = c.bpf.sample_every;
  d.options.ring_bytes = uint32_t(c.bpf.ring_buffer_size);
  d.options.ctl_ring_bytes = uint32_t(c.bpf.control_ring_size);
  d.options.max_processes = c.limits.max_tracked_processes;
  d.options.prefer = prefer;
  d.drain_ns = uint64_t(c.daemon.drain_interval.count());
  d.poll_ns = uint64_t(c.daemon.poll_interval.count());
  return d;
}

}  // namespace cowwatch::bench
