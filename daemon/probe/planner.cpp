#include "probe/planner.h"

#include <cstdio>

namespace cowwatch::probe {
namespace {

// exceptions:page_fault_user and its x86 error code bits exist on x86 only; the BPF object of
// other architectures has no cw_page_fault_user (bpf/lifecycle.bpf.h).
#if defined(__x86_64__)
constexpr bool kHavePageFaultUser = true;
#else
constexpr bool kHavePageFaultUser = false;
#endif

using Kind = Attachment::Kind;

// Accumulates one hook's ladder.
class Ladder {
 public:
  Ladder(HookPlan& plan, const PlannerOptions& options) : plan_(plan), options_(options) {}

  bool done() const { return plan_.strategy != Strategy::kUnavailable || chosen_; }

  void reject(Strategy s, const std::string& target, const std::string& why) {
    plan_.ladder.push_back({s, target, false, why});
  }

  void choose(Strategy s, const std::string& target, bool exact, const std::string& accuracy) {
    plan_.ladder.push_back({s, target, true, "ok"});
    plan_.strategy = s;
    plan_.target = target;
    plan_.exact = exact;
    plan_.accuracy = accuracy;
    chosen_ = true;
  }

  // A program vetoed by a failed load of the main object.
  bool vetoed(const std::string& program, Strategy s, const std::string& target) {
    auto it = options_.vetoed.find(program);
    if (it == options_.vetoed.end()) return false;
    reject(s, target, "program failed to load: " + it->second);
    return true;
  }

 private:
  HookPlan& plan_;
  const PlannerOptions& options_;
  bool chosen_ = false;
};

// fentry and/or fexit on the exact function (clones have no BTF).
bool try_tracing(KernelProbe& k, Ladder& l, const std::string& func, bool need_entry, bool need_exit,
                 const std::vector<std::string>& programs) {
  for (const auto& p : programs)
    if (l.vetoed(p, Strategy::kFentry, func)) return false;
  if (!k.has_btf_func(func)) {
    l.reject(Strategy::kFentry, func, "no BTF FUNC record (inlined, renamed or absent)");
    return false;
  }
  for (bool fexit : {false, true}) {
    if (fexit ? !need_exit : !need_entry) continue;
    TrialResult r = k.trial_fentry(func, fexit);
    if (!r.ok()) {
      l.reject(Strategy::kFentry, func, r.reason);
      return false;
    }
  }
  return true;
}

// Whether a release ("6.12.118+deb13-cloud-amd64") is at least major.minor; false when unparsable.
bool release_at_least(const std::string& release, int major, int minor) {
  int a = 0, b = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &a, &b) != 2) return false;
  return a > major || (a == major && b >= minor);
}

// kprobe (+kretprobe) on the exact symbol or a clone; returns the symbol or "".
std::string try_kprobe(KernelProbe& k, Ladder& l, const std::string& func, bool need_entry,
                       bool need_return, const std::vector<std::string>& programs) {
  for (const auto& p : programs)
    if (l.vetoed(p, Strategy::kKprobe, func)) return "";
  auto symbols = k.kallsyms_candidates(func);
  if (symbols.empty()) {
    l.reject(Strategy::kKprobe, func, "no text symbol in /proc/kallsyms (inlined or absent)");
    return "";
  }
  for (const auto& sym : symbols) {
    TrialResult r;
    if (need_entry) r = k.trial_kprobe(sym, false);
    if (r.ok() && need_return) r = k.trial_kprobe(sym, true);
    if (r.ok()) return sym;
    l.reject(Strategy::kKprobe, sym, r.reason);
  }
  return "";
}

// Pinned pages copied at fork on kprobes, where trampolines cannot attach (arm64 6.1 has no
// direct-call ftrace): kprobe+kretprobe copy_page_range and a kprobe on the folio allocator.
// Returns where they are seen, or "".
// The allocator a fork's copy of a pinned page goes through, by kernel: 6.12+, 6.1, 5.10.
constexpr const char* kForkCopyAllocators[] = {"vma_alloc_folio_noprof", "vma_alloc_folio", "alloc_pages_vma"};

std::string fork_copy_kprobes(KernelProbe& k, Ladder& l, std::vector<Attachment>& attachments) {
  std::string alloc;
  for (const char* f : kForkCopyAllocators)
    if (alloc.empty() && !k.kallsyms_candidates(f).empty()) alloc = f;
  if (alloc.empty()) return "";
  auto range = try_kprobe(k, l, "copy_page_range", true, true,
                          {"cw_kprobe_copy_page_range", "cw_kretprobe_copy_page_range"});
  if (range.empty()) return "";
  auto alloc_sym = try_kprobe(k, l, alloc, true, false, {"cw_kprobe_vma_alloc_folio"});
  if (alloc_sym.empty()) return "";
  attachments.push_back({Kind::kKprobe, "cw_kprobe_copy_page_range", range, CW_HOOK_FORK});
  attachments.push_back({Kind::kKretprobe, "cw_kretprobe_copy_page_range", range, CW_HOOK_FORK});
  attachments.push_back({Kind::kKprobe, "cw_kprobe_vma_alloc_folio", alloc_sym, CW_HOOK_FORK});
  return "kprobe " + range + " + " + alloc_sym;
}

}  // namespace

Realization make_plan(KernelProbe& k, const PlannerOptions& options) {
  Realization out;
  out.plan.kernel_release = k.kernel_release();
  for (int h = 0; h < CW_HOOK_COUNT; h++) out.plan.hooks[h].hook = static_cast<cw_hook>(h);
  auto disabled = [&](cw_hook h, Ladder& l) {
    if (!options.disabled.count(h)) return false;
    l.reject(Strategy::kUnavailable, "", "disabled by config (probes.disabled)");
    return true;
  };
  auto add = [&](Kind kind, const char* program, const std::string& target, cw_hook hook) {
    out.attachments.push_back({kind, program, target, hook});
  };

  // Kernel-wide requirements first: without them no program can load, so no rung is tried.
  std::string missing;
  if (!k.has_vmlinux_btf()) missing = "no vmlinux BTF at /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF=y)";
  else if (!k.has_feature(Feature::kRingbuf)) missing = std::string(feature_name(Feature::kRingbuf)) + " missing";
  if (!missing.empty()) {
    out.unsupported = "unsupported kernel " + out.plan.kernel_release + ": " + missing;
    for (auto& hp : out.plan.hooks) {
      hp.ladder.push_back({Strategy::kUnavailable, "", false, missing});
      hp.accuracy = "unavailable: reports nothing on this kernel";
    }
    return out;
  }
  // Per-program features: each missing one has a fallback inside the programs (cw_bpf_config) or a
  // variant program; the hooks that use them say so.
  out.task_storage = k.has_feature(Feature::kTaskStorage);
  out.task_btf = k.has_feature(Feature::kCurrentTaskBtf);
  const bool has_loop = k.has_feature(Feature::kLoop);
  const bool has_func_ret = k.has_feature(Feature::kFuncRet);
  const bool has_cast = k.has_feature(Feature::kRdonlyCast);  // *_cast variants: plain loads, not probe reads
  auto missing_note = [](Feature f, const std::string& instead) {
    return std::string("; ") + feature_name(f) + " missing: " + instead;
  };
  std::string stash_notes;
  if (!out.task_storage) stash_notes += missing_note(Feature::kTaskStorage, "stash in the tid hash");
  std::string task_notes;
  if (!out.task_btf)
    task_notes += missing_note(Feature::kCurrentTaskBtf, "the current task read with bpf_get_current_task() "
                                                         "and probe reads");

  // Trampoline programs run with preemption on: where the kernel preempts them (full, lazy, rt), a
  // run preempted mid-body makes other tasks' runs of it on that CPU skip (recursion misses,
  // measured on 7.2: docs/performance.md); kprobe handlers run with preemption off.
  const std::string preemption = k.preemption_model();
  const bool preempts_bpf = preemption == "full" || preemption == "lazy" || preemption == "rt";
  const bool prefer_kprobe = options.prefer == RungPreference::kKprobe ||
                             (options.prefer == RungPreference::kAuto && preempts_bpf);
  const std::string why_kprobe = options.prefer == RungPreference::kKprobe
                                     ? "probes.prefer: kprobe"
                                     : "preemption model " + preemption + " preempts trampoline programs";

  // wp_fault: do_wp_page entry+exit. Everything about COW decisions derives from it.
  bool wp_exact = false;
  {
    HookPlan& hp = out.plan.hooks[CW_HOOK_WP_FAULT];
    Ladder l(hp, options);
    if (!disabled(CW_HOOK_WP_FAULT, l)) {
      auto fentry = [&] {
        if (!try_tracing(k, l, "do_wp_page", true, true, {"cw_fentry_do_wp_page", "cw_fexit_do_wp_page"}))
          return false;
        l.choose(Strategy::kFentry, "do_wp_page", true,
                 "exact unless BPF recursion protection skips a run (exported as "
                 "cowwatch_events_dropped_total{cause=\"bpf_recursion\"}; fully preemptible kernels: "
                 "probes.prefer: kprobe)");
        add(Kind::kTracing, "cw_fentry_do_wp_page", "do_wp_page", CW_HOOK_WP_FAULT);
        add(Kind::kTracing, "cw_fexit_do_wp_page", "do_wp_page", CW_HOOK_WP_FAULT);
        return true;
      };
      auto kprobe = [&] {
        // With bpf_rdonly_cast the pair reads vmf with plain loads, as fentry/fexit do.
        const bool cast = has_cast && !options.vetoed.count("cw_kprobe_do_wp_page_cast") &&
                          !options.vetoed.count("cw_kretprobe_do_wp_page_cast");
        const char* entry = cast ? "cw_kprobe_do_wp_page_cast" : "cw_kprobe_do_wp_page";
        const char* exit = cast ? "cw_kretprobe_do_wp_page_cast" : "cw_kretprobe_do_wp_page";
        auto sym = try_kprobe(k, l, "do_wp_page", true, true, {entry, exit});
        if (sym.empty()) return false;
        l.choose(Strategy::kKprobe, sym, true,
                 k.kprobes_via_multi() ? "exact (kprobe_multi links, perf kprobe events being refused; handlers "
                                         "run with preemption off)"
                                  : "exact (handlers run with preemption off; kretprobe instances are sized by "
                                    "the kernel)");
        add(Kind::kKprobe, entry, sym, CW_HOOK_WP_FAULT);
        add(Kind::kKretprobe, exit, sym, CW_HOOK_WP_FAULT);
        return true;
      };
      if (prefer_kprobe) l.reject(Strategy::kFentry, "do_wp_page", "tried after kprobe: " + why_kprobe);
      if (prefer_kprobe ? kprobe() || fentry() : fentry() || kprobe()) {
        wp_exact = true;
        hp.accuracy += stash_notes + task_notes;
      } else if (!kHavePageFaultUser) {
        l.reject(Strategy::kTracepoint, "page_fault_user",
                 "x86-only tracepoint (exceptions:page_fault_user); not built for this architecture");
      } else if (!options.vetoed.count("cw_page_fault_user")) {
        TrialResult r = k.trial_raw_tracepoint("page_fault_user");
        if (r.ok()) {
          l.choose(Strategy::kTracepoint, "page_fault_user", false,
                   "approximation: user write faults on present pages (error code P|W|U), counted "
                   "as cowwatch_wp_faults_approx_total; no copy/reuse decision, no reasons");
          add(Kind::kRawTracepoint, "cw_page_fault_user", "page_fault_user", CW_HOOK_WP_FAULT);
        } else {
          l.reject(Strategy::kTracepoint, "page_fault_user", r.reason);
        }
      }
    }
  }
  const std::string needs_wp = "needs do_wp_page entry and exit (wp_fault has no exact rung here)";

  // cow_copy: wp_page_copy (6.1) marks copies exactly; else the pfn compare at do_wp_page exit.
  {
    HookPlan& hp = out.plan.hooks[CW_HOOK_COW_COPY];
    Ladder l(hp, options);
    auto fexit = [&] {
      if (!try_tracing(k, l, "wp_page_copy", false, true, {"cw_fexit_wp_page_copy"})) return false;
      l.choose(Strategy::kFentry, "wp_page_copy", true,
               "exact for write faults (VM_FAULT_WRITE); unshare copies by the pfn compare, which "
               "wp_page_copy's return value cannot tell from a raced no-op");
      add(Kind::kTracing, "cw_fexit_wp_page_copy", "wp_page_copy", CW_HOOK_COW_COPY);
      return true;
    };
    auto kretprobe = [&] {
      auto sym = try_kprobe(k, l, "wp_page_copy", false, true, {"cw_kretprobe_wp_page_copy"});
      if (sym.empty()) return false;
      l.choose(Strategy::kKprobe, sym, true, "exact");
      add(Kind::kKretprobe, "cw_kretprobe_wp_page_copy", sym, CW_HOOK_COW_COPY);
      return true;
    };
    if (!disabled(CW_HOOK_COW_COPY, l)) {
      if (!wp_exact) {
        l.reject(Strategy::kFentry, "wp_page_copy", needs_wp);
      } else if (prefer_kprobe ? kretprobe() || fexit() : fexit() || kretprobe()) {
        out.copy_exact = true;
      } else {
        l.choose(Strategy::kDerived, "do_wp_page pfn compare", true,
                 "derived: the pte at *vmf->pte maps a different pfn than vmf->orig_pte at "
                 "do_wp_page exit; matched wp_page_copy exactly on 6.1 (VM tier asserts it)");
      }
    }
  }

  // cow_reuse: wp_page_reuse is notrace everywhere measured; the derived rung is the norm.
  {
    HookPlan& hp = out.plan.hooks[CW_HOOK_COW_REUSE];
    Ladder l(hp, options);
    if (!disabled(CW_HOOK_COW_REUSE, l)) {
      if (!wp_exact) {
        l.reject(Strategy::kFentry, "wp_page_reuse", needs_wp);
      } else if (try_tracing(k, l, "wp_page_reuse", true, false, {"cw_fentry_wp_page_reuse"})) {
        l.choose(Strategy::kFentry, "wp_page_reuse", true, "exact");
        add(Kind::kTracing, "cw_fentry_wp_page_reuse", "wp_page_reuse", CW_HOOK_COW_REUSE);
        out.reuse_exact = true;
      } else if (auto sym = try_kprobe(k, l, "wp_page_reuse", true, false, {"cw_kprobe_wp_page_reuse"});
                 !sym.empty()) {
        l.choose(Strategy::kKprobe, sym, true, "exact");
        add(Kind::kKprobe, "cw_kprobe_wp_page_reuse", sym, CW_HOOK_COW_REUSE);
        out.reuse_exact = true;
      } else {
        l.choose(Strategy::kDerived, "do_wp_page writable same pfn", true,
                 "derived: same pfn and a writable pte at do_wp_page exit; the path (exclusive or "
                 "sole reference) comes from PageAnonExclusive at entry");
      }
    }
  }

  // gup_unshare: gup_must_unshare is static inline (6.1, 7.2) or a notrace .part clone; the
  // decision's consequence is a do_wp_page fault with FAULT_FLAG_UNSHARE on the pinned mm.
  {
    HookPlan& hp = out.plan.hooks[CW_HOOK_GUP_UNSHARE];
    Ladder l(hp, options);
    if (!disabled(CW_HOOK_GUP_UNSHARE, l)) {
      const std::string func = "gup_must_unshare";
      bool fn_attachable = false;
      if (!k.has_btf_func(func)) {
        l.reject(Strategy::kFentry, func, "no BTF FUNC record (inlined, renamed or absent)");
      } else if (TrialResult r = k.trial_fentry(func, true); !r.ok()) {
        l.reject(Strategy::kFentry, func, r.reason);
      } else {
        fn_attachable = true;
      }
      if (!fn_attachable && !try_kprobe(k, l, func, false, true, {}).empty()) fn_attachable = true;
      if (fn_attachable) {
        l.reject(Strategy::kFentry, func,
                 "attachable, not used: its result names no mm (pinning task only); the unshare "
                 "fault below is attributed to the owner of the pinned memory");
      }
      if (!wp_exact) {
        l.reject(Strategy::kDerived, "do_wp_page FAULT_FLAG_UNSHARE", needs_wp);
      } else if (!k.btf_enum_has("fault_flag", "FAULT_FLAG_UNSHARE")) {
        l.reject(Strategy::kDerived, "do_wp_page FAULT_FLAG_UNSHARE",
                 "kernel has no unshare faults: read-only GUP pins share COW pages in place "
                 "(no FAULT_FLAG_UNSHARE before 5.19)");
      } else {
        l.choose(Strategy::kDerived, "do_wp_page FAULT_FLAG_UNSHARE", true,
                 "derived: every gup_must_unshare()==true in the GUP slow path becomes one "
                 "unshare fault (kernel-facts.md §2.2); GUP-fast retries through the slow path");
      }
    }
  }

  // gup_unshare's KSM side: a marker on tasks inside __get_user_pages (the only caller of
  // faultin_page) tells GUP's unshare faults from KSM unmerging (break_ksm), which faults outside
  // GUP: with FAULT_FLAG_UNSHARE on 6.12+, FAULT_FLAG_WRITE on 6.1 (bpf/gup_context.bpf.h).
  if (out.plan.hooks[CW_HOOK_GUP_UNSHARE].strategy != Strategy::kUnavailable) {
    HookPlan& hp = out.plan.hooks[CW_HOOK_GUP_UNSHARE];
    Ladder l(hp, options);
    const std::string func = "__get_user_pages";
    std::string seen_at;
    auto fentry = [&] {
      if (!try_tracing(k, l, func, true, true, {"cw_fentry_get_user_pages", "cw_fexit_get_user_pages"}))
        return false;
      add(Kind::kTracing, "cw_fentry_get_user_pages", func, CW_HOOK_GUP_UNSHARE);
      add(Kind::kTracing, "cw_fexit_get_user_pages", func, CW_HOOK_GUP_UNSHARE);
      seen_at = "fentry/fexit " + func;
      return true;
    };
    auto kprobe = [&] {
      auto sym = try_kprobe(k, l, func, true, true, {"cw_kprobe_get_user_pages", "cw_kretprobe_get_user_pages"});
      if (sym.empty()) return false;
      add(Kind::kKprobe, "cw_kprobe_get_user_pages", sym, CW_HOOK_GUP_UNSHARE);
      add(Kind::kKretprobe, "cw_kretprobe_get_user_pages", sym, CW_HOOK_GUP_UNSHARE);
      seen_at = "kprobe/kretprobe " + sym;
      return true;
    };
    if (prefer_kprobe ? kprobe() || fentry() : fentry() || kprobe()) {
      out.gup_context = true;
      hp.accuracy += "; KSM unmerge faults (outside GUP, seen at " + seen_at +
                     ", cost per GUP call) count as ksm_unmerges, never as GUP unshares";
    } else {
      hp.accuracy += "; KSM unmerge not told apart (" + func +
                     " not probeable): on 6.12+ its unshare faults count as GUP unshares";
    }
  }

  // swap_add: add_to_swap (<= 6.12) or folio_alloc_swap (7.2+).
  {
    HookPlan& hp = out.plan.hooks[CW_HOOK_SWAP_ADD];
    Ladder l(hp, options);
    // With bpf_rdonly_cast the fexit program reads the folio and its owner with plain loads (the
    // variant that probe-reads them is kept for older kernels and for a failed load).
    const char* fexit_swap = has_cast && !options.vetoed.count("cw_fexit_swap_add_cast")
                                 ? "cw_fexit_swap_add_cast"
                                 : "cw_fexit_swap_add";
    if (!disabled(CW_HOOK_SWAP_ADD, l)) {
      for (const std::string func : {"add_to_swap", "folio_alloc_swap"}) {
        if (l.done()) break;
        // add_to_swap returns true/1 on success (bool 6.1+, int 5.10); folio_alloc_swap 0 (int, 7.2).
        bool errno_style = func == "folio_alloc_swap" && k.btf_func_return_kind(func) == "int";
        // Without bpf_get_func_ret, fexit finds the return value after the arguments (the
        // program reads argument 1 or 2).
        int params = has_func_ret ? 0 : k.btf_func_param_count(func);
        bool fexit_usable = has_func_ret || (params >= 1 && params <= 2);
        if (!fexit_usable && k.has_btf_func(func))
          l.reject(Strategy::kFentry, func,
                   std::string("needs ") + feature_name(Feature::kFuncRet) + ", missing (" +
                       (params < 0 ? "parameter count unknown" : std::to_string(params) + " parameters") + ")");
        if ((fexit_usable || !k.has_btf_func(func)) && try_tracing(k, l, func, false, true, {fexit_swap})) {
          l.choose(Strategy::kFentry, func, true, "exact");
          add(Kind::kTracing, fexit_swap, func, CW_HOOK_SWAP_ADD);
          out.swap_ret_errno = errno_style;
          if (!has_func_ret) {
            out.swap_ret_arg = static_cast<uint32_t>(params);
            hp.accuracy += missing_note(Feature::kFuncRet, "the return value read as fexit argument " +
                                                               std::to_string(params));
          }
        } else if (auto sym = try_kprobe(k, l, func, true, true,
                                         {"cw_kprobe_swap_add", "cw_kretprobe_swap_add"});
                   !sym.empty()) {
          l.choose(Strategy::kKprobe, sym, true, "exact");
          add(Kind::kKprobe, "cw_kprobe_swap_add", sym, CW_HOOK_SWAP_ADD);
          add(Kind::kKretprobe, "cw_kretprobe_swap_add", sym, CW_HOOK_SWAP_ADD);
          out.swap_ret_errno = errno_style;
          hp.accuracy += stash_notes;
        }
      }
    }
  }

  // swap_add's pinned side: pinned folios reclaim kept (the list shrink_folio_list hands back).
  if (out.plan.hooks[CW_HOOK_SWAP_ADD].strategy != Strategy::kUnavailable) {
    HookPlan& hp = out.plan.hooks[CW_HOOK_SWAP_ADD];
    Ladder l(hp, options);
    // shrink_page_list before 6.1. Without bpf_loop, the variants walking with a bounded loop.
    std::string func = "shrink_folio_list";
    if (!k.has_btf_func(func) && k.has_btf_func("shrink_page_list")) func = "shrink_page_list";
    const char* fexit_prog = has_loop ? "cw_fexit_shrink_folio_list" : "cw_fexit_shrink_list_bounded";
    const char* kretprobe_prog = has_loop ? "cw_kretprobe_shrink_folio_list" : "cw_kretprobe_shrink_list_bounded";
    std::string note;
    if (try_tracing(k, l, func, false, true, {fexit_prog})) {
      add(Kind::kTracing, fexit_prog, func, CW_HOOK_SWAP_ADD);
      note = "; pinned folios kept by reclaim seen at fexit " + func;
    } else if (auto sym = try_kprobe(k, l, func, true, true, {"cw_kprobe_shrink_list_enter", kretprobe_prog});
               !sym.empty()) {
      add(Kind::kKprobe, "cw_kprobe_shrink_list_enter", sym, CW_HOOK_SWAP_ADD);
      add(Kind::kKretprobe, kretprobe_prog, sym, CW_HOOK_SWAP_ADD);
      note = "; pinned folios kept by reclaim seen at kretprobe " + sym;
    } else {
      note = "; pinned folios kept by reclaim are not observable here (" + func + " not probeable)";
    }
    if (!has_loop && note.find("not observable") == std::string::npos)
      note += missing_note(Feature::kLoop, "the kept list walked by a bounded loop (its first 1024 pages)");
    hp.accuracy += note;
  }

  // fork / exit: raw tracepoints (no tracefs needed).
  for (auto [hook, tp, program] : {std::tuple{CW_HOOK_FORK, "sched_process_fork", "cw_sched_process_fork"},
                                   std::tuple{CW_HOOK_EXIT, "sched_process_exit", "cw_sched_process_exit"}}) {
    HookPlan& hp = out.plan.hooks[hook];
    Ladder l(hp, options);
    if (disabled(hook, l) || l.vetoed(program, Strategy::kTracepoint, tp)) continue;
    TrialResult r = k.trial_raw_tracepoint(tp);
    if (r.ok()) {
      l.choose(Strategy::kTracepoint, tp, true, "exact");
      add(Kind::kRawTracepoint, program, tp, hook);
    } else {
      l.reject(Strategy::kTracepoint, tp, r.reason);
    }
  }

  // fork's pinned side: pages copied eagerly at fork (copy_page_range + the folio allocator).
  if (out.plan.hooks[CW_HOOK_FORK].strategy != Strategy::kUnavailable) {
    HookPlan& hp = out.plan.hooks[CW_HOOK_FORK];
    Ladder l(hp, options);
    // Process lifecycle beside fork: an exec ends a fork episode (the exec'ing side drops the
    // shared memory); renames (prctl right after fork, exec) keep counts under the current name.
    struct Extra {
      const char* program;
      const char* tracepoint;
      const char* seen;
      const char* unseen;
    };
    for (const Extra& x : {Extra{"cw_sched_process_exec", "sched_process_exec",
                                 "an exec on either side ends the fork episode",
                                 "exec is not seen: episodes end at exit only"},
                           Extra{"cw_task_rename", "task_rename", "renames seen as they happen",
                                 "renames are not seen: names come from /proc when a process is first polled"},
                           Extra{k.has_feature(Feature::kAtomicFetch) ? "cw_cgroup_attach_task"
                                                                      : "cw_cgroup_attach_task_nofetch",
                                 "cgroup_attach_task",
                                 "cgroup v2 moves seen as they happen, counts split at the move",
                                 "cgroup moves are seen at the process's next own event or poll"}}) {
      if (!l.vetoed(x.program, Strategy::kTracepoint, x.tracepoint) && k.trial_raw_tracepoint(x.tracepoint).ok()) {
        add(Kind::kRawTracepoint, x.program, x.tracepoint, CW_HOOK_FORK);
        hp.accuracy += std::string("; ") + x.seen + " (raw tracepoint " + x.tracepoint + ")";
      } else {
        hp.accuracy += std::string("; ") + x.unseen;
      }
    }
    // Where a fork's copy of a pinned page is seen: the copy itself from 6.12 (copy_present_page
    // copies with copy_mc_user_highpage, i.e. the arch's copy_mc_to_kernel where it has one),
    // which runs on page copies only; else the allocator, which runs on every page faulted in.
    std::string copy_fn, copy_prog;
    if (release_at_least(k.kernel_release(), 6, 12) && k.has_btf_func("copy_mc_to_kernel")) {
      copy_fn = "copy_mc_to_kernel";
      copy_prog = "cw_fentry_copy_mc_to_kernel";
    }
    bool range = try_tracing(k, l, "copy_page_range", true, true,
                             {"cw_fentry_copy_page_range", "cw_fexit_copy_page_range"});
    if (range && !copy_fn.empty() && !try_tracing(k, l, copy_fn, true, false, {copy_prog})) copy_fn.clear();
    if (range && copy_fn.empty()) {
      for (const char* f : kForkCopyAllocators)
        if (copy_fn.empty() && k.has_btf_func(f)) copy_fn = f;
      copy_prog = "cw_fentry_vma_alloc_folio";
      if (!copy_fn.empty() && !try_tracing(k, l, copy_fn, true, false, {copy_prog})) copy_fn.clear();
    }
    if (range && !copy_fn.empty()) {
      add(Kind::kTracing, "cw_fentry_copy_page_range", "copy_page_range", CW_HOOK_FORK);
      add(Kind::kTracing, "cw_fexit_copy_page_range", "copy_page_range", CW_HOOK_FORK);
      add(Kind::kTracing, copy_prog.c_str(), copy_fn, CW_HOOK_FORK);
      hp.accuracy += "; pinned pages copied at fork counted at fentry copy_page_range + " + copy_fn;
      out.plan.fork_pinned_copies_seen = true;
    } else if (std::string seen_at = fork_copy_kprobes(k, l, out.attachments); !seen_at.empty()) {
      hp.accuracy += "; pinned pages copied at fork counted at " + seen_at;
      out.plan.fork_pinned_copies_seen = true;
    } else {
      hp.accuracy += "; pinned pages copied at fork are not observable here (long-term pins seen only "
                     "through mm->pinned_vm)";
    }
    hp.accuracy += task_notes;
  }

  // Kprobe attachments go the way their trials went (perf events, or kprobe_multi links).
  out.plan.kprobe_multi = k.kprobes_via_multi();
  for (auto& hp : out.plan.hooks) {
    if (hp.strategy == Strategy::kUnavailable) {
      hp.exact = false;
      hp.accuracy = "unavailable: reports nothing on this kernel";
    }
  }
  return out;
}

}  // namespace cowwatch::probe
