// Runs the cowwatch command line in-process and captures its output and exit code.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"

namespace cowwatch::cli::testing {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

inline CliRun run_cowwatch(std::vector<std::string> args) {
  args.insert(args.begin(), "cowwatch");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  CliRun r;
  r.code = run_cli(static_cast<int>(args.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace cowwatch::cli::testing
