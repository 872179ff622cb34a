// The planner: walks each hook's ladder against a KernelProbe and picks the first rung that works,
// recording why each rung above it was rejected. Pure logic over the KernelProbe interface, so the
// ladders are unit-tested against fake 6.1/6.12/7.2/host kernels.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "probe/kernel_probe.h"
#include "probe/plan.h"

namespace cowwatch::probe {

// One BPF program of bpf/cowwatch.bpf.c to load and attach.
struct Attachment {
  enum class Kind { kTracing, kKprobe, kKretprobe, kRawTracepoint };
  Kind kind;
  std::string program;  // name in the skeleton, e.g. "cw_fexit_do_wp_page"
  std::string target;   // function, symbol or tracepoint
  cw_hook hook;
};

struct PlannerOptions {
  std::set<cw_hook> disabled;                // hooks switched off by config
  std::map<std::string, std::string> vetoed; // program name -> why it cannot be used (load failed)
  RungPreference prefer = RungPreference::kAuto;  // do_wp_page and wp_page_copy
};

struct Realization {
  ProbePlan plan;
  std::vector<Attachment> attachments;
  bool copy_exact = false;     // a wp_page_copy probe marks copies
  bool reuse_exact = false;    // a wp_page_reuse probe marks reuses
  bool swap_ret_errno = false; // the swap function returns int 0 on success
  bool gup_context = false;    // __get_user_pages is probed: KSM unmerges told from GUP unshares
  // What the programs may use (cw_bpf_config task_storage, task_btf, swap_ret_arg): kernel
  // features found by the probe. Maps of a type the kernel lacks are not created.
  bool task_storage = true;
  bool task_btf = true;
  uint32_t swap_ret_arg = 0;   // 0: bpf_get_func_ret; N: fexit's return value is argument N
  // Non-empty when this kernel cannot be observed at all (no vmlinux BTF, no ring buffer maps):
  // one line naming what is missing. Every hook is then unavailable.
  std::string unsupported;
};

Realization make_plan(KernelProbe& kernel, const PlannerOptions& options);

}  // namespace cowwatch::probe
