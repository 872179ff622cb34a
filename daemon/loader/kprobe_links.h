// How a kprobe program is loaded and attached: a perf kprobe event, or a kprobe_multi link where
// perf events are refused (probe::ProbePlan::kprobe_multi).
#pragma once

#include <string>

struct bpf_program;
struct bpf_link;

namespace cowwatch::loader {

// Before the object is loaded: a program for kprobe_multi links loads with that expected attach type.
void prepare_kprobe(struct bpf_program* prog, bool multi);

// Attaches prog at symbol's entry (or return): NULL with errno set on failure.
struct bpf_link* attach_kprobe(struct bpf_program* prog, const std::string& symbol, bool retprobe, bool multi);

}  // namespace cowwatch::loader
