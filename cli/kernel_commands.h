// The commands that talk to the kernel themselves, without the daemon (root needed):
// `cowwatch probes --local` and `cowwatch run -- CMD`.
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"

namespace cowwatch::cli {

// Probes the running kernel (loads and attaches, then detaches) and prints the plan.
int cmd_probes_local(const Output& o);

struct RunArgs {
  std::vector<std::string> command;  // CMD ARGS...
  uint32_t event_mode = 2;           // every event: the process tree is followed by fork records
  size_t top = 10;                   // text report: the processes with the most copies
  bool all = false;                  // text report: every process of the tree
};

// Runs CMD under observation and prints the report of its process tree; returns CMD's exit
// status (128 + signal when it was killed), or kExitKernel/kExitError when it could not start.
int cmd_run(const RunArgs& args, const Output& o);

}  // namespace cowwatch::cli
