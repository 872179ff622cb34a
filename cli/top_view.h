// `cowwatch top` in a terminal: refreshes every second, keys change the sort and grouping,
// `q` quits. Falls back to one snapshot when stdout is not a terminal.
#pragma once

#include <atomic>

#include "cli/client.h"
#include "cli/commands.h"

namespace cowwatch::cli {

// Interactive loop on the terminal (stdin keys, stdout screen). Returns an exit code.
int run_top_view(Source& source, TopArgs args, std::atomic<bool>* stop);

}  // namespace cowwatch::cli
