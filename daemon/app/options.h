// cowwatchd's command line.
#pragma once

#include <optional>
#include <string>

namespace cowwatch::app {

struct Options {
  std::optional<std::string> config_path;  // --config FILE (default: /etc/cowwatch/cowwatch.yaml if it exists)
  std::optional<std::string> check_config; // --check-config [FILE]: validate and exit
  bool strict = false;                     // --strict: fail when a required hook is unavailable
  bool probes = false;                     // --probes: print the probe plan and exit
  bool json = false;                       // --json with --probes
  bool version = false;
  bool verbose = false;                    // libbpf debug output
  std::optional<std::string> web_config;   // --web.config.file FILE: overrides metrics.web_config_file
};

// Parses argv. Returns an exit code to exit with immediately (help, usage error), or nullopt.
std::optional<int> parse_options(int argc, char** argv, Options* out);

}  // namespace cowwatch::app
