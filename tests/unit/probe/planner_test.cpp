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
  bool tracing = true;
  bool unshare_flag = true;

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
    auto it = kprobe_fail.find(s);
    return it == kprobe_fail.end() ? TrialResult{} : it->second;
  }
  TrialResult trial_raw_tracepoint(const std::string&) override { return {}; }
};

const TrialResult kNotrace{-16, "fentry attach failed (EBUSY): no ftrace site (notrace)"};
const TrialResult kKprobeNotrace{-22, "kprobe attach failed (EINVAL): notrace or not probeable"};

FakeKernel debian_61() {
  FakeKernel k;
  k.release = "6.1.0-56-cloud-amd64";
  k.btf = {{"do_wp_page", "int"}, {"wp_page_copy", "int"}, {"wp_page_reuse", "void"},
           {"add_to_swap", "bool"}, {"folio_alloc_swap", "struct"}, {"shrink_folio_list", "int"},
           {"copy_page_range", "int"}, {"vma_alloc_folio", "ptr"}, {"__get_user_pages", "int"}};
  k.kallsyms = {"do_wp_page", "wp_page_copy", "wp_page_reuse", "add_to_swap", "folio_alloc_swap",
                "shrink_folio_list", "copy_page_range", "vma_alloc_folio", "__get_user_pages"};
  k.fentry_fail = {{"wp_page_reuse", kNotrace},
                   {"__get_user_pages", {-524, "fentry attach failed (ENOTSUPP, 524): 7 arguments"}},
                   {"folio_alloc_swap/fexit", {-22, "fexit refused at load (EINVAL): struct return"}}};
  k.kprobe_fail = {{"wp_page_reuse", kKprobeNotrace}};
  return k;
}

FakeKernel debian_612() {
  FakeKernel k = debian_61();
  k.release = "6.12.117+deb13-cloud-amd64";
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
  EXPECT_TRUE(attaches(r, "cw_fentry_shrink_folio_list", "shrink_folio_list"));
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
  EXPECT_TRUE(attaches(r, "cw_fentry_vma_alloc_folio", "vma_alloc_folio_noprof"));
}

TEST(Planner, Debian72SwapsThroughFolioAllocSwapWithErrnoReturn) {
  FakeKernel k = debian_72();
  Realization r = make_plan(k, {});
  const auto& swap = r.plan.hooks[CW_HOOK_SWAP_ADD];
  EXPECT_EQ(swap.strategy, Strategy::kFentry);
  EXPECT_EQ(swap.target, "folio_alloc_swap");
  EXPECT_TRUE(r.swap_ret_errno);
  EXPECT_TRUE(attaches(r, "cw_fexit_swap_add", "folio_alloc_swap"));
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
  EXPECT_NE(outcomes(gup).find("not applicable"), std::string::npos) << outcomes(gup);
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

}  // namespace
}  // namespace cowwatch::probe
