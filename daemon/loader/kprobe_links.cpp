#include "loader/kprobe_links.h"

#include <bpf/libbpf.h>

namespace cowwatch::loader {

void prepare_kprobe(struct bpf_program* prog, bool multi) {
  if (multi) bpf_program__set_expected_attach_type(prog, BPF_TRACE_KPROBE_MULTI);
}

struct bpf_link* attach_kprobe(struct bpf_program* prog, const std::string& symbol, bool retprobe, bool multi) {
  if (!multi) return bpf_program__attach_kprobe(prog, retprobe, symbol.c_str());
  const char* syms[] = {symbol.c_str()};
  LIBBPF_OPTS(bpf_kprobe_multi_opts, opts);
  opts.syms = syms;
  opts.cnt = 1;
  opts.retprobe = retprobe;
  return bpf_program__attach_kprobe_multi_opts(prog, nullptr, &opts);
}

}  // namespace cowwatch::loader
