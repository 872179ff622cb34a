#include "loader/kfunc_calls.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "cowwatch.h"

namespace cowwatch::loader {
namespace {

// BTF id of a FUNC in vmlinux BTF, or a negative errno.
int vmlinux_func_id(const char* name) {
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return -errno;
  int id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC);
  btf__free(vmlinux);
  return id;
}

}  // namespace

bool link_rdonly_cast(struct bpf_program* prog, std::string* error) {
  static const int kfunc_id = vmlinux_func_id("bpf_rdonly_cast");
  if (kfunc_id <= 0) {
    *error = "vmlinux BTF has no bpf_rdonly_cast kfunc";
    return false;
  }
  const struct bpf_insn* insns = bpf_program__insns(prog);
  std::vector<struct bpf_insn> patched(insns, insns + bpf_program__insn_cnt(prog));
  for (auto& insn : patched) {
    if (insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0 && insn.imm == CW_RDONLY_CAST_PLACEHOLDER) {
      insn.src_reg = BPF_PSEUDO_KFUNC_CALL;  // off 0: a kfunc of vmlinux
      insn.off = 0;
      insn.imm = kfunc_id;
    }
  }
  if (int err = bpf_program__set_insns(prog, patched.data(), patched.size())) {
    *error = std::string("rewriting its bpf_rdonly_cast calls failed: ") + strerror(-err);
    return false;
  }
  return true;
}

}  // namespace cowwatch::loader
