// KernelSession: everything the daemon (and `cowwatch run`) needs from the kernel side, behind one
// object: probe the running kernel, choose a rung per hook, load and attach the BPF programs, hand
// out ring-buffer records and counter samples, and detach everything on destruction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "cowwatch.h"
#include "ingest/kernel_sample.h"
#include "probe/plan.h"

namespace cowwatch::loader {

struct KernelOptions {
  uint32_t event_mode = 0;              // cw_bpf_config.event_mode: 0 anomalies, 1 sampled, 2 all
  uint32_t sample_every = 1000;         // for event_mode 1
  uint32_t ring_bytes = 16u << 20;      // detail event ring (power of two, >= page size)
  uint32_t ctl_ring_bytes = 1u << 20;   // fork/exit/anomaly ring
  uint32_t max_processes = 32768;       // per-process counter map capacity
  std::set<cw_hook> disabled_hooks;     // hooks never attached ("disabled by config")
  probe::RungPreference prefer = probe::RungPreference::kAuto;  // do_wp_page: rung tried first
};

using EventSink = std::function<void(const cw_event&)>;

class KernelSession {
 public:
  // Probes, loads and attaches. Returns nullptr and sets *error when nothing could be loaded at
  // all (no BTF, no permission); a kernel that refuses some hooks still yields a session whose
  // plan says which hooks are unavailable and why.
  static std::unique_ptr<KernelSession> open(const KernelOptions& options, std::string* error);
  virtual ~KernelSession() = default;  // detaches every program

  virtual const probe::ProbePlan& plan() const = 0;
  // An fd that becomes readable when a ring buffer has records (for epoll/poll).
  virtual int event_fd() const = 0;
  // Consumes every available record; returns how many. Never blocks.
  virtual int drain(const EventSink& sink) = 0;
  // Reads host counters, drops, all per-process counters and program stats.
  virtual ingest::KernelSample sample() = 0;
  // Reads the process's counters (summed) and deletes its map entry: the exit flush.
  // Returns false when the entry does not exist.
  virtual bool take_process(const cw_proc_key& key, cw_counters* out) = 0;
  // Reads and deletes a process's counters kept at a cgroup move (CW_EV_CGROUP_MOVE's aux1).
  // Returns false when none were kept (sequence 0, or already taken).
  virtual bool take_move(uint64_t sequence, cw_counters* out) = 0;
};

}  // namespace cowwatch::loader
