// The configurations a storm runs under, each attachable and detachable between storms:
// detached, the empty-program floor, the naive design (every event through the ring, default
// wakeups, epoll reader), and the daemon's own pipeline (KernelSession + drain + Aggregator).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loader/kernel_session.h"

namespace cowwatch::bench {

// Where the wp_fault hook sits on this kernel (taken from the daemon's probe plan).
struct HookSite {
  enum class Kind { kFentry, kKprobe, kTracepoint } kind = Kind::kTracepoint;
  std::string target;  // do_wp_page (or a clone), or page_fault_user
  bool kprobe_multi = false;  // kprobes through kprobe_multi links, as cowwatch's plan attaches them
};
const char* hook_kind_name(HookSite::Kind kind);

struct ProgCost {
  std::string program;
  uint64_t run_time_ns = 0;  // bpf_stats, cumulative while loaded
  uint64_t run_cnt = 0;
};

// What each program did between two costs() readings of the same rung: its runs and run time in
// between, for the programs that ran.
std::vector<ProgCost> cost_delta(const std::vector<ProgCost>& before, const std::vector<ProgCost>& after);

class Rung {
 public:
  virtual ~Rung() = default;
  virtual std::string name() const = 0;
  virtual bool attach(std::string* error) = 0;
  virtual void detach() = 0;
  // Cumulative stats of the programs (call while attached).
  virtual std::vector<ProgCost> costs() = 0;
  // Extra facts for the table (records read, drops); "" when none.
  virtual std::string notes() const { return ""; }
};

std::unique_ptr<Rung> make_detached_rung();
// The floors (bench/bpf/floor.bpf.c): kEmpty, empty programs; kCounting, the counting floor
// (per-process identity + hash lookup + atomic add), the least any per-process counter costs on
// that hook; kTwoPhase, the counting floor plus a per-thread stash written at entry with one
// 64-byte read of the old page, the least any design costs that judges a fault by the page's
// state before it. nullptr and *error when the programs cannot be loaded for `site`.
// kEmptyPerfEvent: the empty floor on perf kprobe events where the plan attaches kprobes through
// kprobe_multi links (the two dispatch paths side by side).
enum class FloorKind { kEmpty, kCounting, kTwoPhase, kEmptyPerfEvent };
std::unique_ptr<Rung> make_floor_rung(const HookSite& site, std::string* error, FloorKind kind);
std::unique_ptr<Rung> make_naive_rung(const HookSite& site, int reader_cpu, std::string* error);
// The daemon's pipeline in this process: KernelSession::open on attach, a thread that drains on
// the event fd and every drain_ns into an Aggregator (exits flushed with take_process), and
// samples + applies every poll_ns. Detach destroys the session (every program detached).
// with_loop=false attaches the same programs with no reader at all (an ablation: what the kernel
// side alone costs).
std::unique_ptr<Rung> make_daemon_rung(const loader::KernelOptions& options, uint64_t drain_ns,
                                       uint64_t poll_ns, int reader_cpu, bool with_loop = true);

// The daemon's wp_fault site on this kernel; false and *error when the session does not open.
bool daemon_hook_site(const loader::KernelOptions& options, HookSite* site, std::string* error);

}  // namespace cowwatch::bench
