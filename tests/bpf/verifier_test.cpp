// Host BPF tier: every program of bpf/cowwatch.bpf.c through the real verifier of the running
// kernel, one at a time. kprobe-type programs load on kernels that cannot attach kprobes (the
// verifier still runs); tracing (fentry/fexit) programs are skipped where the kernel refuses them
// before verification (EPERM under lockdown), with the reason; raw tracepoint programs are also
// attached. Needs root (CAP_BPF + CAP_PERFMON): skipped otherwise.
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "cowwatch.h"
#include "cowwatch_bpf.skel.h"
#include "loader/kfunc_calls.h"
#include "probe/kernel_probe.h"

namespace {

std::string g_log;

int capture(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG && !getenv("CW_BPF_DEBUG")) return 0;
  char* buf = nullptr;
  if (vasprintf(&buf, fmt, args) >= 0) {
    g_log += buf;
    free(buf);
  }
  return 0;
}

std::vector<std::string> program_names() {
  std::vector<std::string> names;
  struct cowwatch_bpf* skel = cowwatch_bpf__open();
  if (!skel) return names;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) names.push_back(bpf_program__name(prog));
  cowwatch_bpf__destroy(skel);
  return names;
}

// Attach target a tracing program needs at load: the function in its SEC name.
class VerifierTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VerifierTest, LoadsThroughTheVerifier) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CAP_BPF, CAP_PERFMON) to load BPF programs";
  libbpf_set_print(capture);
  g_log.clear();
  struct cowwatch_bpf* skel = cowwatch_bpf__open();
  ASSERT_NE(skel, nullptr);
  struct bpf_program* target = nullptr;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    bool mine = GetParam() == bpf_program__name(prog);
    bpf_program__set_autoload(prog, mine);
    if (mine) target = prog;
  }
  ASSERT_NE(target, nullptr);
  // The features the loader would find here (5.10 has no task storage, bpf_get_current_task_btf,
  // bpf_loop or bpf_get_func_ret): each program is verified as the loader would load it.
  auto kernel = cowwatch::probe::make_system_probe();
  using cowwatch::probe::Feature;
  const bool task_storage = kernel->has_feature(Feature::kTaskStorage);
  skel->rodata->cw_cfg.task_storage = task_storage;
  skel->rodata->cw_cfg.task_btf = kernel->has_feature(Feature::kCurrentTaskBtf);
  if (!kernel->has_feature(Feature::kLoop) &&
      (GetParam() == "cw_fexit_shrink_folio_list" || GetParam() == "cw_kretprobe_shrink_folio_list")) {
    cowwatch_bpf__destroy(skel);
    GTEST_SKIP() << "bpf_loop (5.17+) missing: the loader uses the *_shrink_list_bounded variant";
  }
  const bool swap_add = GetParam() == "cw_fexit_swap_add" || GetParam() == "cw_fexit_swap_add_cast";
  const std::string& name = GetParam();
  if (!kernel->has_feature(Feature::kRdonlyCast) && cowwatch::loader::calls_rdonly_cast(name)) {
    cowwatch_bpf__destroy(skel);
    GTEST_SKIP() << "bpf_rdonly_cast (6.2+) missing: the loader uses the variant without _cast";
  }
  if (!kernel->has_feature(Feature::kAtomicFetch) && GetParam() == "cw_cgroup_attach_task") {
    cowwatch_bpf__destroy(skel);
    GTEST_SKIP() << "atomic fetch-and-add (5.12+) missing: the loader uses cw_cgroup_attach_task_nofetch";
  }
  if (cowwatch::loader::calls_rdonly_cast(name)) {  // as the loader does
    std::string why;
    ASSERT_TRUE(cowwatch::loader::link_rdonly_cast(target, &why)) << why;
  }
  struct bpf_map* map;
  bpf_object__for_each_map(map, skel->obj) {
    if (bpf_map__type(map) == BPF_MAP_TYPE_TASK_STORAGE && !task_storage) bpf_map__set_autocreate(map, false);
  }
  enum bpf_prog_type type = bpf_program__type(target);
  if (type == BPF_PROG_TYPE_TRACING) {
    // The loader retargets some tracing programs at run time; try the function this kernel has.
    std::string sec = bpf_program__section_name(target);
    std::vector<std::string> funcs = {sec.substr(sec.find('/') + 1)};
    if (swap_add) funcs.push_back("folio_alloc_swap");
    if (GetParam() == "cw_fentry_vma_alloc_folio") {
      funcs.insert(funcs.begin(), "vma_alloc_folio_noprof");
      funcs.push_back("alloc_pages_vma");  // 5.10
    }
    if (GetParam() == "cw_fexit_shrink_list_bounded") funcs.insert(funcs.begin(), "shrink_folio_list");
    struct btf* vmlinux = btf__load_vmlinux_btf();
    std::string chosen;
    for (const auto& f : funcs) {
      int id = vmlinux ? btf__find_by_name_kind(vmlinux, f.c_str(), BTF_KIND_FUNC) : -1;
      if (id <= 0 || !chosen.empty()) continue;
      // fexit refuses functions returning a struct (folio_alloc_swap on 6.1/6.12): the planner
      // uses the kprobe rung there, so that combination is never loaded.
      const struct btf_type* proto = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type);
      const struct btf_type* ret = proto && proto->type ? btf__type_by_id(vmlinux, proto->type) : nullptr;
      while (ret && (btf_is_typedef(ret) || btf_is_mod(ret))) ret = btf__type_by_id(vmlinux, ret->type);
      if (ret && btf_is_composite(ret) && sec.rfind("fexit", 0) == 0) continue;
      chosen = f;
    }
    btf__free(vmlinux);
    if (swap_add && !chosen.empty() && !kernel->has_feature(Feature::kFuncRet)) {
      int params = kernel->btf_func_param_count(chosen);  // the return value follows the arguments
      if (params < 1 || params > 2) {
        cowwatch_bpf__destroy(skel);
        GTEST_SKIP() << "bpf_get_func_ret (5.17+) missing and " << chosen << " has " << params
                     << " parameters: the loader uses the kprobe rung";
      }
      skel->rodata->cw_cfg.swap_ret_arg = params;
    }
    if (chosen.empty()) {
      cowwatch_bpf__destroy(skel);
      GTEST_SKIP() << "none of this program's functions has a usable BTF FUNC here";
    }
    bpf_program__set_attach_target(target, 0, chosen.c_str());
  }
  int err = cowwatch_bpf__load(skel);
  if (err == -EPERM && type == BPF_PROG_TYPE_TRACING) {
    cowwatch_bpf__destroy(skel);
    GTEST_SKIP() << "this kernel refuses fentry/fexit before verification (EPERM, lockdown); "
                    "the VM tier verifies it on Debian kernels";
  }
  EXPECT_EQ(err, 0) << "verifier rejected " << GetParam() << ":\n" << g_log;
  if (err == 0 && type == BPF_PROG_TYPE_RAW_TRACEPOINT) {
    std::string sec = bpf_program__section_name(target);
    std::string tp = sec.substr(sec.find('/') + 1);
    struct bpf_link* link = bpf_program__attach_raw_tracepoint(target, tp.c_str());
    EXPECT_NE(link, nullptr) << "raw tracepoint " << tp << " did not attach: " << g_log;
    bpf_link__destroy(link);
  }
  cowwatch_bpf__destroy(skel);
}

// The loader's link of the *_cast programs' kfunc calls: every placeholder call becomes a call of
// this kernel's bpf_rdonly_cast (by its vmlinux BTF id), and nothing else changes. Needs no root.
TEST(KfuncCalls, PlaceholderCallsBecomeTheKernelsRdonlyCast) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  int id = vmlinux ? btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) : -1;
  btf__free(vmlinux);
  if (id <= 0) GTEST_SKIP() << "vmlinux BTF has no bpf_rdonly_cast (6.2+): the *_cast programs are never loaded";
  struct cowwatch_bpf* skel = cowwatch_bpf__open();
  ASSERT_NE(skel, nullptr);
  struct bpf_program* prog = bpf_object__find_program_by_name(skel->obj, "cw_fexit_swap_add_cast");
  ASSERT_NE(prog, nullptr);
  std::vector<struct bpf_insn> before(bpf_program__insns(prog), bpf_program__insns(prog) + bpf_program__insn_cnt(prog));
  std::string why;
  ASSERT_TRUE(cowwatch::loader::link_rdonly_cast(prog, &why)) << why;
  const struct bpf_insn* after = bpf_program__insns(prog);
  ASSERT_EQ(bpf_program__insn_cnt(prog), before.size());
  int linked = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    bool placeholder = before[i].code == (BPF_JMP | BPF_CALL) && before[i].src_reg == 0 &&
                       before[i].imm == CW_RDONLY_CAST_PLACEHOLDER;
    if (placeholder) {
      EXPECT_EQ(after[i].src_reg, BPF_PSEUDO_KFUNC_CALL) << "insn " << i;
      EXPECT_EQ(after[i].imm, id) << "insn " << i;
      EXPECT_EQ(after[i].off, 0) << "insn " << i;
      ++linked;
    } else {
      EXPECT_EQ(std::memcmp(&after[i], &before[i], sizeof(after[i])), 0) << "insn " << i << " changed";
    }
  }
  EXPECT_GE(linked, 4);  // the folio, the anon_vma, the chain, and the value helper's zero
  cowwatch_bpf__destroy(skel);
}

INSTANTIATE_TEST_SUITE_P(AllPrograms, VerifierTest, ::testing::ValuesIn(program_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
