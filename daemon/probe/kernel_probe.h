// What the planner asks of the running kernel. The real implementation reads vmlinux BTF and
// /proc/kallsyms and does trial attaches of trivial programs; tests substitute a fake kernel.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace cowwatch::probe {

// Result of a trial: 0 or a negative errno, with a human-readable reason when it failed.
struct TrialResult {
  int error = 0;
  std::string reason;
  bool ok() const { return error == 0; }
};

// BPF features some of cowwatch's programs use. A missing one switches the programs that use it to
// the branch or variant that does without, or takes their rung away; the plan names it.
enum class Feature {
  kRingbuf,         // BPF_MAP_TYPE_RINGBUF (5.8+): every record goes through one; nothing works without
  kTaskStorage,     // BPF_MAP_TYPE_TASK_STORAGE (5.11+): per-thread stashes (else tid-keyed hashes)
  kCurrentTaskBtf,  // bpf_get_current_task_btf() (5.11+): else bpf_get_current_task() + probe reads
  kLoop,            // bpf_loop() (5.17+): else a bounded loop walks the reclaim list
  kFuncRet,         // bpf_get_func_ret() (5.17+): else fexit reads the return value as an argument
  kAtomicFetch,     // atomic fetch-and-add (5.12+): else per-CPU sequence numbers (cgroup moves)
  kRdonlyCast,      // the bpf_rdonly_cast kfunc (6.2+): plain loads through kernel addresses (swap adds)
  kKprobeMulti,     // kprobe_multi links (5.18+, CONFIG_FPROBE): kprobes attached without a perf event
};
const char* feature_name(Feature f);  // "task storage (5.11+)", ...

class KernelProbe {
 public:
  virtual ~KernelProbe() = default;
  virtual std::string kernel_release() = 0;
  // True when vmlinux BTF has a FUNC record with this exact name.
  virtual bool has_btf_func(const std::string& name) = 0;
  // Name of the BTF return type's kind of a FUNC: "int", "bool", "struct", "ptr", "void", "" if absent.
  virtual std::string btf_func_return_kind(const std::string& name) = 0;
  // True when BTF has `enum enum_name` with the enumerator `value`.
  virtual bool btf_enum_has(const std::string& enum_name, const std::string& value) = 0;
  // Text symbols for `base` in /proc/kallsyms: the exact name first, then compiler clones
  // (.isra.N, .constprop.N, .part.N, in that order); never .cold fragments (not entry points).
  virtual std::vector<std::string> kallsyms_candidates(const std::string& base) = 0;
  // Trial attaches of a trivial program, detached at once.
  virtual TrialResult trial_fentry(const std::string& func, bool fexit) = 0;
  // Through a perf kprobe event; where the kernel refuses those (perf_event_paranoid=3 without
  // CAP_SYS_ADMIN) but has kprobe_multi links (Feature::kKprobeMulti), through a link from then on.
  virtual TrialResult trial_kprobe(const std::string& symbol, bool retprobe) = 0;
  // True once kprobe trials went through kprobe_multi links: the loader attaches them so too.
  virtual bool kprobes_via_multi() { return false; }
  virtual TrialResult trial_raw_tracepoint(const std::string& name) = 0;
  // vmlinux BTF (/sys/kernel/btf/vmlinux) was found: every program is relocated against it.
  virtual bool has_vmlinux_btf() { return true; }
  // The kernel can create maps of this type / has this helper (libbpf_probe_bpf_*, BTF enums).
  virtual bool has_feature(Feature) { return true; }
  // Parameters of a BTF FUNC (an fexit program finds the return value after them); -1 if unknown.
  virtual int btf_func_param_count(const std::string&) { return -1; }
  // The preemption model in force: "none", "voluntary", "full", "lazy", "rt", or "" when unknown.
  // Under full/lazy/rt a BPF trampoline program can be preempted mid-run.
  virtual std::string preemption_model() { return ""; }
};

// The probe of the running kernel (needs CAP_BPF/CAP_PERFMON or root for the trials).
std::unique_ptr<KernelProbe> make_system_probe();

}  // namespace cowwatch::probe
