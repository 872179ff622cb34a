// What "attached" means in cw_bench_paths: the daemon's probe plan on this kernel (hook, rung,
// target) and the programs its session attaches, printed once before the rounds.
#pragma once

#include <string>

#include "loader/kernel_session.h"

namespace cowwatch::bench {

// Opens a session with `options`, prints its plan and attached programs, closes it.
// false and *error when the session does not open (no root, no BTF, BPF refused).
bool print_daemon_plan(const loader::KernelOptions& options, std::string* error);

}  // namespace cowwatch::bench
