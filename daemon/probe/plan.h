// The probe plan: for each logical hook, the rung chosen on this kernel and why every rung
// above it was rejected. Data only; daemon/probe/planner.cpp builds it, everything else reads it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cowwatch.h"

namespace cowwatch::probe {

// Which rung the do_wp_page hooks (and the copy marker) try first. kAuto: kprobe where the kernel
// preempts BPF programs (preemption model full, lazy or rt), else fentry.
enum class RungPreference { kAuto, kFentry, kKprobe };

enum class Strategy {
  kFentry,        // fentry/fexit trampoline on the exact function
  kKprobe,        // kprobe/kretprobe on the exact function (or a .part/.isra/.constprop clone)
  kDerived,       // inferred from another hook (e.g. pfn compare at do_wp_page exit)
  kTracepoint,    // tracepoint (exact for fork/exit; an approximation for wp_fault)
  kUnavailable,   // nothing on this kernel: the hook reports nothing
};

const char* strategy_name(Strategy s);      // "fentry", "kprobe", "derived", "tracepoint", "unavailable"
const char* hook_name(cw_hook h);           // "wp_fault", "cow_copy", ...

struct Rung {
  Strategy strategy;
  std::string target;     // function, clone or tracepoint name; for derived: what it derives from
  bool chosen = false;
  std::string outcome;    // "ok" or why it was rejected ("no BTF FUNC", "attach EBUSY (notrace)", ...)
};

struct HookPlan {
  cw_hook hook;
  Strategy strategy = Strategy::kUnavailable;  // the chosen rung's strategy
  std::string target;                          // the chosen rung's target ("" when unavailable)
  bool exact = false;     // counts are exact (false for derived/approximations: see accuracy)
  std::string accuracy;   // what the chosen rung is known to miss or approximate
  std::vector<Rung> ladder;  // every rung considered, in order
};

struct ProbePlan {
  std::string kernel_release;              // uname -r
  std::array<HookPlan, CW_HOOK_COUNT> hooks;
  // Pages copied eagerly at fork because pinned are observed (copy_page_range + the folio
  // allocator). Without it, only the parent's long-term pins (pinned_vm) are seen at fork.
  bool fork_pinned_copies_seen = false;
  // kprobe/kretprobe rungs attach through kprobe_multi links (fprobe, the function's ftrace site),
  // not perf kprobe events: no perf_event_open, so no CAP_SYS_ADMIN under perf_event_paranoid=3.
  // The programs then load with expected attach type BPF_TRACE_KPROBE_MULTI.
  bool kprobe_multi = false;
};

}  // namespace cowwatch::probe
