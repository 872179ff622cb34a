// The kfunc calls of cowwatch's BPF programs, linked by the loader instead of by libbpf.
#pragma once

#include <string>

struct bpf_program;

namespace cowwatch::loader {

// Rewrites prog's placeholder calls (CW_RDONLY_CAST_PLACEHOLDER, bpf/cowwatch.h) into calls of the
// running kernel's bpf_rdonly_cast kfunc. Call before the object is loaded. False, with the reason,
// when vmlinux BTF has no such kfunc or the program cannot be changed.
bool link_rdonly_cast(struct bpf_program* prog, std::string* error);

}  // namespace cowwatch::loader
