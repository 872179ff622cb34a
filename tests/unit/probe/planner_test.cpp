// The probe ladders against fake kernels built from what kernel-facts.md measured on Debian 6.1,
// 6.12, 7.2 and the 6.18 host: which rung each hook gets, why the others were rejected, and which
// programs the loader is told to attach.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "probe/planner.h"

namespace cowwatch::probe {
namespace {

struct FakeKernel : KernelProbe {
  std::string release = "fake";
  std::map<std::string, std::string> btf;        // FUNC name -> return kind
  std::string preemption;                         // preemption_model(): "" unknown
  std::set<std::string> kallsyms;                 // text symbols, full names
  std::map<std::string, TrialResult> fentry_fail; // "func" or "func/fexit" -> failure
  std::map<std::string, TrialResult> kprobe_fail; // symbol -> failure
  bool kprobes = true;
  bool perf_kprobes = true;                       // false: perf events refused (paranoid 3, no CAP_SYS_ADMIN)
  bool via_multi = false;                         // kprobe trials went through kprobe_multi links
  bool tracing = true;
  bool unshare_flag = true;
  bool vmlinux_btf = true;
  std::set<Feature> missing;                      // BPF features the kernel lacks
  std::map<std::string, int> params;              // FUNC name -> parameter count (else unknown)

  std::string kernel_release() override { return release; }
  bool has_btf_func(const std::string& n) override { return btf.count(n) > 0; }
  std::string preemption_model() override { return preemption; }
  std::string btf_func_return_kind(const std::string& n) override {
    auto it = btf.find(n);
    return it == btf.end() ? "" : it->second;
  }
  bool btf_enum_has(const std::string& e, const std::string& v) override {
    return unshare_flag && e == "fault_flag" && v == "FAULT_FLAG_UNSHARE";
  }
  std::vector<std::string> kallsyms_candidates(const std::string& base) override {
    std::vector<std::string> out;
    if (kallsyms.count(base)) out.push_back(base);
    for (const auto& s : kallsyms)
      if (s != base && s.rfind(base + ".", 0) == 0 && s.find(".cold") == std::string::npos) out.push_back(s);
    return out;
  }
  TrialResult trial_fentry(const std::string& f, bool fexit) override {
    if (!tracing) return {-1, "fentry refused at load (EPERM)"};
    if (!btf.count(f)) return {-3, "no BTF FUNC record"};
    auto it = fentry_fail.find(fexit ? f + "/fexit" : f);
    if (it == fentry_fail.end()) it = fentry_fail.find(f);
    return it == fentry_fail.end() ? TrialResult{} : it->second;
  }
  TrialResult trial_kprobe(const std::string& s, bool) override {
    if (!kprobes) return {-95, "no kprobe PMU (kernel built without CONFIG_KPROBES)"};
    if (!kallsyms.count(s)) return {-2, "kprobe attach failed (ENOENT): no such symbol"};
    if (!perf_kprobes) {
      if (missing.count(Feature::kKprobeMulti)) return {-13, "kprobe attach failed (EACCES)"};
      via_multi = true;
    }
    auto it = kprobe_fail.find(s);
    return it == kprobe_fail.end() ? TrialResult{} : it->second;
  }
  bool kprobes_via_multi() override { return via_multi; }
  TrialResult trial_raw_tracepoint(const std::string&) override { return {}; }
  bool has_vmlinux_btf() override { return vmlinux_btf; }
  bool has_feature(Feature f) override { return !missing.count(f); }
  int btf_func_param_count(const std::string& n) override {
    auto it = params.find(n);
    return it == params.end() ? -1 : it->second;
  }
};

const TrialResult kNotrace{-16, "fentry attach failed (EBUSY): no ftrace site (notrace)"};
const TrialResult kKprobeNotrace{-22, "kprobe attach failed (EINVAL): notrace or not probeable"};

FakeKernel debian_61() {
  FakeKernel k;
  k.release = "6.1.0-56-cloud-amd64";
  k.btf = {{"do_wp_page", "int"}, {"wp_page_copy", "int"}, {"wp_page_reuse", "void"},
           {"add_to_swap", "bool"}, {"folio_alloc_swap", "struct"}, {"shrink_folio_list", "int"},
           {"copy_page_range", "int"}, {"vma_alloc_folio", "ptr"}, {"__get_user_pages", "int"},
           {"copy_mc_to_kernel", "int"}};
  k.kallsyms = {"do_wp_page", "wp_page_copy", "wp_page_reuse", "add_to_swap", "folio_alloc_swap",
                "shrink_folio_list", "copy_page_range", "vma_alloc_folio", "__get_user_pages",
                "copy_mc_to_kernel"};
  k.fentry_fail = {{"wp_page_reuse", kNotrace},
                   {"__get_user_pages", {-524, "fentry attach failed (ENOTSUPP, 524): 7 arguments"}},
                   {"folio_alloc_swap/fexit", {-22, "fexit refused at load (EINVAL): struct return"}}};
  k.kprobe_fail = {{"wp_page_reuse", kKprobeNotrace}};
  k.missing = {Feature::kRdonlyCast, Feature::kKprobeMulti};  // 6.2+; Debian 6.1 lacks CONFIG_FPROBE
  return k;
}

FakeKernel debian_612() {
  FakeKernel k = debian_61();
  k.release = "6.12.117+deb13-cloud-amd64";
  k.missing.clear();
  k.btf.erase("wp_page_copy");
  k.kallsyms.erase("wp_page_copy");
  k.btf.erase("vma_alloc_folio");
  k.btf["vma_alloc_folio_noprof"] = "ptr";
  k.kallsyms.insert("gup_must_unshare.part.0");
  k.kprobe_fail["gup_must_unshare.part.0"] = kKprobeNotrace;
  k.fentry_fail.erase("__get_user_pages");  // 6 arguments since 6.5: the trampoline takes it
  return k;
}

FakeKernel debian_72() {
  FakeKernel k = debian_612();
  k.release = "7.2.13+deb14-cloud-amd64";
  k.btf.erase("add_to_swap");
  k.kallsyms.erase("add_to_swap");
  k.kallsyms.erase("gup_must_unshare.part.0");
  k.btf["folio_alloc_swap"] = "int";
  k.fentry_fail.erase("folio_alloc_swap/fexit");
  k.kallsyms.insert("folio_alloc_swap.cold");
  return k;
}

FakeKernel host_618() {
  FakeKernel k = debian_72();
  k.release = "6.18.44-fc";
  k.tracing = false;
  k.kprobes = false;
  k.kallsyms.insert("gup_must_unshare.part.0");
  return k;
}

// Debian's arm64 6.1 (kernel-facts-reach.md §2a): no CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS, so
// every fentry/fexit program loads but no trampoline attaches (-524); kprobes work.
FakeKernel debian_61_arm64() {
  FakeKernel k = debian_61();
  k.release = "6.1.0-57-cloud-arm64";
  for (const auto& [func, kind] : k.btf) k.fentry_fail[func] = {-524, "fentry attach failed (ENOTSUPP, 524)"};
  return k;
}

bool attaches(const Realization& r, const std::string& program, const std::string& target) {
  return std::any_of(r.attachments.begin(), r.attachments.end(),
                     [&](const Attachment& a) { return a.program == program && a.target == target; });
}

std::string outcomes(const HookPlan& hp) {
  std::string s;
  for (const auto& r : hp.ladder) s += std::string(strategy_name(r.strategy)) + " " + r.target + ": " + r.outcome + "\n";
  return s;
}

TEST(Planner, Debian61UsesExactFunctionsWhereTheyExist) {
  FakeKernel k = debian_61();
  Realization r = make_plan(k, {});
  EXPECT_EQ(r.plan.kernel_release, "6.1.0-56-cloud-amd64");
  const auto& wp = r.plan.hooks[CW_HOOK_WP_FAULT];
  EXPECT_EQ(wp.strategy, Strategy::kFentry);
  EXPECT_TRUE(wp.exact);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_COW_COPY].strategy, Strategy::kFentry);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_COW_COPY].target, "wp_page_copy");
  EXPECT_TRUE(r.copy_exact);
  EXPECT_TRUE(attaches(r, "cw_fexit_wp_page_copy", "wp_page_copy"));
  EXPECT_TRUE(attaches(r, "cw_fentry_do_wp_page", "do_wp_page"));
  EXPECT_TRUE(attaches(r, "cw_fexit_do_wp_page", "do_wp_page"));
  EXPECT_EQ(r.plan.hooks[CW_HOOK_SWAP_ADD].target, "add_to_swap");
  EXPECT_FALSE(r.swap_ret_errno);  // bool add_to_swap()
  EXPECT_TRUE(attaches(r, "cw_fexit_shrink_folio_list", "shrink_folio_list"));
  EXPECT_TRUE(attaches(r, "cw_fentry_vma_alloc_folio", "vma_alloc_folio"));
}

TEST(Planner, Arm64Debian61WithoutTrampolinesUsesKprobesForEveryHook) {
  FakeKernel k = debian_61_arm64();
  Realization r = make_plan(k, {});
  for (cw_hook h : {CW_HOOK_WP_FAULT, CW_HOOK_COW_COPY, CW_HOOK_SWAP_ADD})
    EXPECT_EQ(r.plan.hooks[h].strategy, Strategy::kKprobe) << hook_name(h) << ":\n" << outcomes(r.plan.hooks[h]);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_COW_REUSE].strategy, Strategy::kDerived);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_GUP_UNSHARE].strategy, Strategy::kDerived);
  for (const auto& hp : r.plan.hooks) EXPECT_TRUE(hp.exact) << hook_name(hp.hook);
  EXPECT_TRUE(r.copy_exact);
  EXPECT_TRUE(r.gup_context);
  EXPECT_TRUE(attaches(r, "cw_kretprobe_wp_page_copy", "wp_page_copy"));
  EXPECT_TRUE(attaches(r, "cw_kprobe_copy_page_range", "copy_page_range"));
  EXPECT_TRUE(attaches(r, "cw_kretprobe_copy_page_range", "copy_page_range"));
  EXPECT_TRUE(attaches(r, "cw_kprobe_vma_alloc_folio", "vma_alloc_folio"));
  // the list reclaim kept: its head stashed at entry, walked at return
  EXPECT_TRUE(attaches(r, "cw_kprobe_shrink_list_enter", "shrink_folio_list"));
  EXPECT_TRUE(attaches(r, "cw_kretprobe_shrink_folio_list", "shrink_folio_list"));
  EXPECT_TRUE(r.plan.fork_pinned_copies_seen);
  for (const auto& a : r.attachments)
    EXPECT_NE(a.kind, Attachment::Kind::kTracing) << a.program << " needs a trampoline";
}

// KSM unmerge vs GUP unshare: a marker on tasks inside __get_user_pages (kprobe on 6.1, whose
// 7-argument __get_user_pages the trampoline refuses; fentry on 6.12/7.2).
TEST(Planner, GupContextMarkerHasAFallbackAndSaysWhenMissing) {
  FakeKernel k61 = debian_61();
  Realization r61 = make_plan(k61, {});
  EXPECT_TRUE(r61.gup_context);
  EXPECT_TRUE(attaches(r61, "cw_kprobe_get_user_pages", "__get_user_pages"));
  EXPECT_TRUE(attaches(r61, "cw_kretprobe_get_user_pages", "__get_user_pages"));
  EXPECT_NE(outcomes(r61.plan.hooks[CW_HOOK_GUP_UNSHARE]).find("524"), std::string::npos);
  EXPECT_NE(r61.plan.hooks[CW_HOOK_GUP_UNSHARE].accuracy.find("kprobe/kretprobe __get_user_pages"),
            std::string::npos);

  FakeKernel k72 = debian_72();
  Realization r72 = make_plan(k72, {});
  EXPECT_TRUE(r72.gup_context);
  EXPECT_TRUE(attaches(r72, "cw_fentry_get_user_pages", "__get_user_pages"));
  EXPECT_TRUE(attaches(r72, "cw_fexit_get_user_pages", "__get_user_pages"));

  FakeKernel none = debian_72();
  none.btf.erase("__get_user_pages");
  none.kallsyms.erase("__get_user_pages");
  Realization rn = make_plan(none, {});
  EXPECT_FALSE(rn.gup_context);
  EXPECT_EQ(rn.plan.hooks[CW_HOOK_GUP_UNSHARE].strategy, Strategy::kDerived);
  EXPECT_NE(rn.plan.hooks[CW_HOOK_GUP_UNSHARE].accuracy.find("KSM unmerge not told apart"), std::string::npos);
}

TEST(Planner, NotraceReuseFallsToTheDerivedRungWithReasons) {
  FakeKernel k = debian_61();
  Realization r = make_plan(k, {});
  const auto& reuse = r.plan.hooks[CW_HOOK_COW_REUSE];
  EXPECT_EQ(reuse.strategy, Strategy::kDerived);
  EXPECT_FALSE(r.reuse_exact);
  std::string why = outcomes(reuse);
  EXPECT_NE(why.find("EBUSY"), std::string::npos) << why;
  EXPECT_NE(why.find("EINVAL"), std::string::npos) << why;
  EXPECT_FALSE(attaches(r, "cw_fentry_wp_page_reuse", "wp_page_reuse"));
}

TEST(Planner, Debian612DerivesCopiesAndRejectsTheNotraceUnshareClone) {
  FakeKernel k = debian_612();
  Realization r = make_plan(k, {});
  EXPECT_EQ(r.plan.hooks[CW_HOOK_COW_COPY].strategy, Strategy::kDerived);
  EXPECT_FALSE(r.copy_exact);
  const auto& gup = r.plan.hooks[CW_HOOK_GUP_UNSHARE];
  EXPECT_EQ(gup.strategy, Strategy::kDerived);
  EXPECT_NE(outcomes(gup).find("gup_must_unshare.part.0"), std::string::npos) << outcomes(gup);
}

// 6.12+ copies a pinned page at fork with copy_mc_user_highpage: counted at the copy, not at
// every allocation; 6.1's copy_present_page uses copy_user_highpage, so there the allocator.
TEST(Planner, ForkPinnedCopiesAreSeenAtTheCopyFrom612AndAtTheAllocatorBefore) {
  FakeKernel k612 = debian_612(), k72 = debian_72(), k61 = debian_61();
  Realization r612 = make_plan(k612, {}), r72 = make_plan(k72, {}), r61 = make_plan(k61, {});
  EXPECT_TRUE(attaches(r612, "cw_fentry_copy_mc_to_kernel", "copy_mc_to_kernel"));
  EXPECT_FALSE(attaches(r612, "cw_fentry_vma_alloc_folio", "vma_alloc_folio_noprof"));
  EXPECT_TRUE(attaches(r72, "cw_fentry_copy_mc_to_kernel", "copy_mc_to_kernel"));
  EXPECT_TRUE(attaches(r61, "cw_fentry_vma_alloc_folio", "vma_alloc_folio"));
  EXPECT_FALSE(attaches(r61, "cw_fentry_copy_mc_to_kernel", "copy_mc_to_kernel"));
  EXPECT_NE(r612.plan.hooks[CW_HOOK_FORK].accuracy.find("copy_page_range + copy_mc_to_kernel"), std::string::npos);
  // no arch copy_mc_to_kernel (arm64), or its trampoline refused: the allocator
  for (bool refuse : {false, true}) {
    FakeKernel k = debian_612();
    if (refuse) k.fentry_fail["copy_mc_to_kernel"] = kNotrace;
    else k.btf.erase("copy_mc_to_kernel");
    Realization r = make_plan(k, {});
    EXPECT_TRUE(attaches(r, "cw_fentry_vma_alloc_folio", "vma_alloc_folio_noprof")) << refuse;
    EXPECT_FALSE(attaches(r, "cw_fentry_copy_mc_to_kernel", "copy_mc_to_kernel")) << refuse;
    EXPECT_TRUE(r.plan.fork_pinned_copies_seen) << refuse;
  }
}

TEST(Planner, Debian72SwapsThroughFolioAllocSwapWithErrnoReturn) {
  FakeKernel k = debian_72();
  Realization r = make_plan(k, {});
  const auto& swap = r.plan.hooks[CW_HOOK_SWAP_ADD];
  EXPECT_EQ(swap.strategy, Strategy::kFentry);
  EXPECT_EQ(swap.target, "folio_alloc_swap");
  EXPECT_TRUE(r.swap_ret_errno);
  EXPECT_TRUE(attaches(r, "cw_fexit_swap_add_cast", "folio_alloc_swap"));  // bpf_rdonly_cast: plain loads
  EXPECT_FALSE(attaches(r, "cw_fexit_swap_add", "folio_alloc_swap"));
}

TEST(Planner, SwapAddReadsWithPlainLoadsOnlyWhereTheKernelCasts) {
  FakeKernel k61 = debian_61(), k612 = debian_612();
  Realization r61 = make_plan(k61, {});
  EXPECT_TRUE(attaches(r61, "cw_fexit_swap_add", "add_to_swap"));  // no bpf_rdonly_cast before 6.2
  EXPECT_FALSE(attaches(r61, "cw_fexit_swap_add_cast", "add_to_swap"));
  Realization r612 = make_plan(k612, {});
  EXPECT_TRUE(attaches(r612, "cw_fexit_swap_add_cast", "add_to_swap"));
  // A cast program the verifier refused falls back to the probe-reading one on the same rung.
  PlannerOptions vetoed;
  vetoed.vetoed["cw_fexit_swap_add_cast"] = "verifier: R1 pointer -= pointer prohibited";
  Realization fallback = make_plan(k612, vetoed);
  EXPECT_TRUE(attaches(fallback, "cw_fexit_swap_add", "add_to_swap"));
  EXPECT_EQ(fallback.plan.hooks[CW_HOOK_SWAP_ADD].strategy, Strategy::kFentry);
}

TEST(Planner, StructReturnRefusedByFexitFallsToKprobe) {
  FakeKernel k = debian_612();
  k.btf.erase("add_to_swap");
  k.kallsyms.erase("add_to_swap");
  Realization r = make_plan(k, {});
  const auto& swap = r.plan.hooks[CW_HOOK_SWAP_ADD];
  EXPECT_EQ(swap.strategy, Strategy::kKprobe);
  EXPECT_EQ(swap.target, "folio_alloc_swap");
  EXPECT_FALSE(r.swap_ret_errno);  // swp_entry_t: success is a non-zero value
  EXPECT_TRUE(attaches(r, "cw_kretprobe_swap_add", "folio_alloc_swap"));
}

TEST(Planner, HostKernelIsTruthfullyDegraded) {
  FakeKernel k = host_618();
  Realization r = make_plan(k, {});
  const auto& wp = r.plan.hooks[CW_HOOK_WP_FAULT];
  EXPECT_EQ(wp.strategy, Strategy::kTracepoint);
  EXPECT_EQ(wp.target, "page_fault_user");
  EXPECT_FALSE(wp.exact);
  std::string why = outcomes(wp);
  EXPECT_NE(why.find("EPERM"), std::string::npos) << why;
  EXPECT_NE(why.find("CONFIG_KPROBES"), std::string::npos) << why;
  for (cw_hook h : {CW_HOOK_COW_COPY, CW_HOOK_COW_REUSE, CW_HOOK_GUP_UNSHARE, CW_HOOK_SWAP_ADD}) {
    EXPECT_EQ(r.plan.hooks[h].strategy, Strategy::kUnavailable) << hook_name(h);
    EXPECT_FALSE(r.plan.hooks[h].exact);
    EXPECT_FALSE(r.plan.hooks[h].ladder.empty()) << hook_name(h) << " says nothing about why";
  }
  EXPECT_EQ(r.plan.hooks[CW_HOOK_FORK].strategy, Strategy::kTracepoint);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_EXIT].strategy, Strategy::kTracepoint);
  for (const auto& a : r.attachments)
    EXPECT_EQ(a.kind, Attachment::Kind::kRawTracepoint) << a.program << " cannot attach on this kernel";
}

TEST(Planner, PreferKprobeTriesTheKprobeRungFirst) {
  FakeKernel k = debian_61();
  PlannerOptions o;
  o.prefer = RungPreference::kKprobe;
  Realization r = make_plan(k, o);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_WP_FAULT].strategy, Strategy::kKprobe);
  EXPECT_TRUE(attaches(r, "cw_kprobe_do_wp_page", "do_wp_page"));
  EXPECT_TRUE(attaches(r, "cw_kretprobe_do_wp_page", "do_wp_page"));
  EXPECT_FALSE(attaches(r, "cw_fexit_do_wp_page", "do_wp_page"));
  EXPECT_EQ(r.plan.hooks[CW_HOOK_COW_COPY].strategy, Strategy::kKprobe);  // the copy marker too
  EXPECT_TRUE(r.copy_exact);
}

TEST(Planner, AutoPrefersKprobeOnlyWhereTheKernelPreemptsBpfPrograms) {
  FakeKernel lazy = debian_72();
  lazy.preemption = "lazy";
  Realization r = make_plan(lazy, {});
  EXPECT_EQ(r.plan.hooks[CW_HOOK_WP_FAULT].strategy, Strategy::kKprobe);
  EXPECT_NE(outcomes(r.plan.hooks[CW_HOOK_WP_FAULT]).find("preemption model lazy"), std::string::npos);

  FakeKernel voluntary = debian_612();
  voluntary.preemption = "voluntary";
  EXPECT_EQ(make_plan(voluntary, {}).plan.hooks[CW_HOOK_WP_FAULT].strategy, Strategy::kFentry);

  PlannerOptions fentry;  // probes.prefer: fentry overrides the detection
  fentry.prefer = RungPreference::kFentry;
  EXPECT_EQ(make_plan(lazy, fentry).plan.hooks[CW_HOOK_WP_FAULT].strategy, Strategy::kFentry);
}

TEST(Planner, KprobeRungReadsWithPlainLoadsWhereTheKernelCasts) {
  FakeKernel lazy = debian_72();  // 7.2: kprobe by default, bpf_rdonly_cast present
  lazy.preemption = "lazy";
  Realization r = make_plan(lazy, {});
  EXPECT_TRUE(attaches(r, "cw_kprobe_do_wp_page_cast", "do_wp_page"));
  EXPECT_TRUE(attaches(r, "cw_kretprobe_do_wp_page_cast", "do_wp_page"));
  EXPECT_FALSE(attaches(r, "cw_kretprobe_do_wp_page", "do_wp_page"));
  // A refused cast program keeps the rung, with the probe-reading pair.
  PlannerOptions vetoed;
  vetoed.vetoed["cw_kretprobe_do_wp_page_cast"] = "verifier failure";
  Realization fallback = make_plan(lazy, vetoed);
  EXPECT_EQ(fallback.plan.hooks[CW_HOOK_WP_FAULT].strategy, Strategy::kKprobe);
  EXPECT_TRUE(attaches(fallback, "cw_kprobe_do_wp_page", "do_wp_page"));
  EXPECT_TRUE(attaches(fallback, "cw_kretprobe_do_wp_page", "do_wp_page"));
  // 6.1 has no bpf_rdonly_cast: the probe-reading pair (PreferKprobeTriesTheKprobeRungFirst).
}

TEST(Planner, KprobesTakeKprobeMultiLinksWhenPerfEventsAreRefused) {
  FakeKernel lazy = debian_72();  // preemptible: auto prefers kprobes
  lazy.preemption = "lazy";
  Realization root = make_plan(lazy, {});
  EXPECT_FALSE(root.plan.kprobe_multi);  // perf kprobe events work: their dispatch is cheaper
  EXPECT_EQ(root.plan.hooks[CW_HOOK_WP_FAULT].strategy, Strategy::kKprobe);

  lazy.perf_kprobes = false;  // the systemd unit on Debian: paranoid 3, no CAP_SYS_ADMIN
  Realization unit = make_plan(lazy, {});
  EXPECT_TRUE(unit.plan.kprobe_multi);
  EXPECT_EQ(unit.plan.hooks[CW_HOOK_WP_FAULT].strategy, Strategy::kKprobe);
  EXPECT_NE(unit.plan.hooks[CW_HOOK_WP_FAULT].accuracy.find("kprobe_multi links"), std::string::npos);

  FakeKernel old = debian_61();  // no CONFIG_FPROBE: the kprobe rung is refused, fentry it is
  old.preemption = "lazy";
  old.perf_kprobes = false;
  Realization r61 = make_plan(old, {});
  EXPECT_FALSE(r61.plan.kprobe_multi);
  EXPECT_EQ(r61.plan.hooks[CW_HOOK_WP_FAULT].strategy, Strategy::kFentry);
  EXPECT_NE(outcomes(r61.plan.hooks[CW_HOOK_WP_FAULT]).find("EACCES"), std::string::npos);
}

TEST(Planner, VetoedProgramFallsToTheNextRung) {
  FakeKernel k = debian_61();
  PlannerOptions o;
  o.vetoed["cw_fexit_do_wp_page"] = "verifier failure";
  Realization r = make_plan(k, o);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_WP_FAULT].strategy, Strategy::kKprobe);
  EXPECT_TRUE(attaches(r, "cw_kretprobe_do_wp_page", "do_wp_page"));
  EXPECT_NE(outcomes(r.plan.hooks[CW_HOOK_WP_FAULT]).find("verifier failure"), std::string::npos);
}

TEST(Planner, DisabledHookAttachesNothing) {
  FakeKernel k = debian_61();
  PlannerOptions o;
  o.disabled = {CW_HOOK_SWAP_ADD};
  Realization r = make_plan(k, o);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_SWAP_ADD].strategy, Strategy::kUnavailable);
  EXPECT_NE(outcomes(r.plan.hooks[CW_HOOK_SWAP_ADD]).find("disabled by config"), std::string::npos);
  for (const auto& a : r.attachments) EXPECT_NE(a.hook, CW_HOOK_SWAP_ADD) << a.program;
}

TEST(Planner, KernelWithoutUnshareFlagSaysNotApplicable) {
  FakeKernel k = debian_61();
  k.unshare_flag = false;
  Realization r = make_plan(k, {});
  const auto& gup = r.plan.hooks[CW_HOOK_GUP_UNSHARE];
  EXPECT_EQ(gup.strategy, Strategy::kUnavailable);
  EXPECT_NE(outcomes(gup).find("kernel has no unshare faults: read-only GUP pins share COW pages in place"),
            std::string::npos)
      << outcomes(gup);
}

TEST(Planner, NoKprobesAndNoTracingLeavesCowHooksUnavailableNotGuessed) {
  FakeKernel k = debian_61();
  k.tracing = false;
  k.kprobes = false;
  Realization r = make_plan(k, {});
  EXPECT_EQ(r.plan.hooks[CW_HOOK_COW_COPY].strategy, Strategy::kUnavailable);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_COW_REUSE].strategy, Strategy::kUnavailable);
  EXPECT_FALSE(r.copy_exact);
}

// Debian bullseye 5.10.0-43 as measured (kernel-facts-reach.md §1): no task storage, no
// bpf_get_current_task_btf, bpf_loop or bpf_get_func_ret; page-based names; wp_page_reuse inlined.
FakeKernel debian_510() {
  FakeKernel k;
  k.release = "5.10.0-43-cloud-amd64";
  k.btf = {{"do_wp_page", "int"}, {"wp_page_copy", "int"}, {"add_to_swap", "int"},
           {"shrink_page_list", "int"}, {"copy_page_range", "int"}, {"alloc_pages_vma", "ptr"},
           {"__get_user_pages", "int"}};
  k.kallsyms = {"do_wp_page", "wp_page_copy", "add_to_swap", "shrink_page_list", "copy_page_range",
                "alloc_pages_vma", "__get_user_pages"};
  k.params = {{"add_to_swap", 1}};
  k.unshare_flag = false;
  k.missing = {Feature::kTaskStorage, Feature::kCurrentTaskBtf, Feature::kLoop, Feature::kFuncRet,
               Feature::kAtomicFetch, Feature::kRdonlyCast, Feature::kKprobeMulti};
  return k;
}

// Strategy and target of every hook, and the attachments: what a missing feature may change.
std::string plan_shape(const Realization& r) {
  std::string s;
  for (const auto& hp : r.plan.hooks)
    s += std::string(hook_name(hp.hook)) + "=" + strategy_name(hp.strategy) + ":" + hp.target + "\n";
  for (const auto& a : r.attachments) s += a.program + "@" + a.target + "\n";
  return s;
}

TEST(Planner, MissingTaskStorageKeepsEveryRungAndNamesTheFallback) {
  FakeKernel full = debian_61();
  FakeKernel k = debian_61();
  k.missing.insert(Feature::kTaskStorage);
  Realization want = make_plan(full, {}), r = make_plan(k, {});
  EXPECT_EQ(plan_shape(r), plan_shape(want));
  EXPECT_TRUE(want.task_storage);
  EXPECT_FALSE(r.task_storage);  // cw_cfg.task_storage = 0; the task-storage maps are not created
  EXPECT_TRUE(r.task_btf);
  EXPECT_NE(r.plan.hooks[CW_HOOK_WP_FAULT].accuracy.find("task storage (5.11+) missing: stash in the tid hash"),
            std::string::npos)
      << r.plan.hooks[CW_HOOK_WP_FAULT].accuracy;
  EXPECT_EQ(r.plan.hooks[CW_HOOK_FORK].accuracy, want.plan.hooks[CW_HOOK_FORK].accuracy);
}

TEST(Planner, MissingFuncRetTakesOnlyTheFexitSwapRung) {
  FakeKernel full = debian_72();  // int folio_alloc_swap(folio, gfp): fexit with bpf_get_func_ret
  FakeKernel k = debian_72();
  k.missing = {Feature::kFuncRet};  // and its parameter count unknown: the return value is unreachable
  Realization want = make_plan(full, {}), r = make_plan(k, {});
  const auto& swap = r.plan.hooks[CW_HOOK_SWAP_ADD];
  EXPECT_EQ(want.plan.hooks[CW_HOOK_SWAP_ADD].strategy, Strategy::kFentry);
  EXPECT_EQ(swap.strategy, Strategy::kKprobe);
  EXPECT_EQ(swap.target, "folio_alloc_swap");
  EXPECT_NE(outcomes(swap).find("needs bpf_get_func_ret (5.17+), missing"), std::string::npos) << outcomes(swap);
  EXPECT_TRUE(r.swap_ret_errno);
  for (int h = 0; h < CW_HOOK_COUNT; h++) {
    if (h == CW_HOOK_SWAP_ADD) continue;
    EXPECT_EQ(r.plan.hooks[h].strategy, want.plan.hooks[h].strategy) << hook_name(cw_hook(h));
    EXPECT_EQ(r.plan.hooks[h].target, want.plan.hooks[h].target) << hook_name(cw_hook(h));
    EXPECT_EQ(r.plan.hooks[h].accuracy, want.plan.hooks[h].accuracy) << hook_name(cw_hook(h));
  }
  EXPECT_FALSE(attaches(r, "cw_fexit_swap_add", "folio_alloc_swap"));
  EXPECT_TRUE(attaches(r, "cw_kprobe_swap_add", "folio_alloc_swap"));
  EXPECT_TRUE(attaches(r, "cw_kretprobe_swap_add", "folio_alloc_swap"));
}

TEST(Planner, MissingLoopSwitchesOnlyTheReclaimWalk) {
  FakeKernel full = debian_61();
  FakeKernel k = debian_61();
  k.missing.insert(Feature::kLoop);
  Realization want = make_plan(full, {}), r = make_plan(k, {});
  EXPECT_TRUE(attaches(want, "cw_fexit_shrink_folio_list", "shrink_folio_list"));
  EXPECT_TRUE(attaches(r, "cw_fexit_shrink_list_bounded", "shrink_folio_list"));
  EXPECT_FALSE(attaches(r, "cw_fexit_shrink_folio_list", "shrink_folio_list"));
  EXPECT_EQ(r.attachments.size(), want.attachments.size());
  EXPECT_NE(r.plan.hooks[CW_HOOK_SWAP_ADD].accuracy.find("bpf_loop (5.17+) missing"), std::string::npos);
  for (int h = 0; h < CW_HOOK_COUNT; h++) {
    EXPECT_EQ(r.plan.hooks[h].strategy, want.plan.hooks[h].strategy) << hook_name(cw_hook(h));
    if (h != CW_HOOK_SWAP_ADD) {
      EXPECT_EQ(r.plan.hooks[h].accuracy, want.plan.hooks[h].accuracy);
    }
  }
}

TEST(Planner, Debian510IsExactWhereItCanBeAndSaysWhatItLacks) {
  FakeKernel k = debian_510();
  Realization r = make_plan(k, {});
  EXPECT_TRUE(r.unsupported.empty());
  for (cw_hook h : {CW_HOOK_WP_FAULT, CW_HOOK_COW_COPY, CW_HOOK_COW_REUSE, CW_HOOK_SWAP_ADD, CW_HOOK_FORK,
                    CW_HOOK_EXIT})
    EXPECT_TRUE(r.plan.hooks[h].exact) << hook_name(h);
  EXPECT_TRUE(attaches(r, "cw_fentry_do_wp_page", "do_wp_page"));
  EXPECT_TRUE(attaches(r, "cw_fexit_wp_page_copy", "wp_page_copy"));
  EXPECT_TRUE(r.copy_exact);
  EXPECT_EQ(r.plan.hooks[CW_HOOK_COW_REUSE].strategy, Strategy::kDerived);  // wp_page_reuse is inlined
  const auto& gup = r.plan.hooks[CW_HOOK_GUP_UNSHARE];
  EXPECT_EQ(gup.strategy, Strategy::kUnavailable);
  EXPECT_NE(outcomes(gup).find("kernel has no unshare faults: read-only GUP pins share COW pages in place"),
            std::string::npos);
  EXPECT_FALSE(r.gup_context);
  // int add_to_swap(struct page *): 1 on success; the return value is fexit's argument 1
  EXPECT_TRUE(attaches(r, "cw_fexit_swap_add", "add_to_swap"));
  EXPECT_EQ(r.swap_ret_arg, 1u);
  EXPECT_FALSE(r.swap_ret_errno);
  EXPECT_TRUE(attaches(r, "cw_fexit_shrink_list_bounded", "shrink_page_list"));
  EXPECT_TRUE(attaches(r, "cw_fentry_vma_alloc_folio", "alloc_pages_vma"));
  EXPECT_TRUE(r.plan.fork_pinned_copies_seen);
  EXPECT_TRUE(attaches(r, "cw_cgroup_attach_task_nofetch", "cgroup_attach_task"));
  EXPECT_FALSE(attaches(r, "cw_cgroup_attach_task", "cgroup_attach_task"));
  EXPECT_FALSE(r.task_storage);
  EXPECT_FALSE(r.task_btf);
  const std::string& wp = r.plan.hooks[CW_HOOK_WP_FAULT].accuracy;
  EXPECT_NE(wp.find("task storage (5.11+) missing: stash in the tid hash"), std::string::npos) << wp;
  EXPECT_NE(wp.find("bpf_get_current_task_btf (5.11+) missing"), std::string::npos) << wp;
  const std::string& swap = r.plan.hooks[CW_HOOK_SWAP_ADD].accuracy;
  EXPECT_NE(swap.find("bpf_get_func_ret (5.17+) missing: the return value read as fexit argument 1"),
            std::string::npos)
      << swap;
  EXPECT_NE(swap.find("bpf_loop (5.17+) missing"), std::string::npos) << swap;
}

TEST(Planner, KernelWithoutBtfOrRingbufIsUnsupportedInOneLine) {
  FakeKernel k = debian_510();
  k.missing.insert(Feature::kRingbuf);
  Realization r = make_plan(k, {});
  EXPECT_EQ(r.unsupported, "unsupported kernel 5.10.0-43-cloud-amd64: ring buffer maps (5.8+) missing");
  EXPECT_TRUE(r.attachments.empty());
  for (const auto& hp : r.plan.hooks) EXPECT_EQ(hp.strategy, Strategy::kUnavailable);
  k.vmlinux_btf = false;
  r = make_plan(k, {});
  EXPECT_NE(r.unsupported.find("no vmlinux BTF at /sys/kernel/btf/vmlinux"), std::string::npos);
  EXPECT_EQ(r.unsupported.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace cowwatch::probe
