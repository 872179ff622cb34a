#include "probe/plan.h"

#include "probe/kernel_probe.h"

namespace cowwatch::probe {

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::kFentry: return "fentry";
    case Strategy::kKprobe: return "kprobe";
    case Strategy::kDerived: return "derived";
    case Strategy::kTracepoint: return "tracepoint";
    case Strategy::kUnavailable: return "unavailable";
  }
  return "unavailable";
}

const char* feature_name(Feature f) {
  switch (f) {
    case Feature::kRingbuf: return "ring buffer maps (5.8+)";
    case Feature::kTaskStorage: return "task storage (5.11+)";
    case Feature::kCurrentTaskBtf: return "bpf_get_current_task_btf (5.11+)";
    case Feature::kLoop: return "bpf_loop (5.17+)";
    case Feature::kFuncRet: return "bpf_get_func_ret (5.17+)";
    case Feature::kAtomicFetch: return "atomic fetch-and-add (5.12+)";
    case Feature::kRdonlyCast: return "bpf_rdonly_cast (6.2+)";
    case Feature::kKprobeMulti: return "kprobe_multi links (5.18+, CONFIG_FPROBE)";
  }
  return "unknown feature";
}

const char* hook_name(cw_hook h) {
  switch (h) {
    case CW_HOOK_WP_FAULT: return "wp_fault";
    case CW_HOOK_COW_COPY: return "cow_copy";
    case CW_HOOK_COW_REUSE: return "cow_reuse";
    case CW_HOOK_GUP_UNSHARE: return "gup_unshare";
    case CW_HOOK_SWAP_ADD: return "swap_add";
    case CW_HOOK_FORK: return "fork";
    case CW_HOOK_EXIT: return "exit";
    case CW_HOOK_COUNT: break;
  }
  return "unknown";
}

}  // namespace cowwatch::probe
