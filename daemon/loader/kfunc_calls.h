// The kfunc calls of cowwatch's BPF programs, linked by the loader instead of by libbpf.
#pragma once

#include <string>
#include <string_view>

struct bpf_program;

namespace cowwatch::loader {

// The programs that call bpf_rdonly_cast, by the convention of their names ("..._cast").
inline bool calls_rdonly_cast(std::string_view program) { return program.ends_with("_cast"); }

// Rewrites prog's placeholder calls (CW_RDONLY_CAST_PLACEHOLDER, bpf/cowwatch.h) into calls of the
// running kernel's bpf_rdonly_cast kfunc. Call before the object is loaded. False, with the reason,
// when vmlinux BTF has no such kfunc or the program cannot be changed.
bool link_rdonly_cast(struct bpf_program* prog, std::string* error);

}  // namespace cowwatch::loader
