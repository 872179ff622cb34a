// The cowwatch command line: parses arguments (CLI11) and runs one subcommand.
#pragma once

#include <ostream>

namespace cowwatch::cli {

// Returns the process exit code (exit_codes.h; `run` returns its command's status).
int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace cowwatch::cli
