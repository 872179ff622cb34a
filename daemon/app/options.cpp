#include "app/options.h"

#include <CLI/CLI.hpp>

#include "cowwatch_version.h"

namespace cowwatch::app {

std::optional<int> parse_options(int argc, char** argv, Options* out) {
  CLI::App app{
      "cowwatchd - observe copy-on-write, GUP pins and swap per process with eBPF, and export\n"
      "Prometheus metrics, alerts and a control socket for the `cowwatch` CLI.\n\n"
      "Examples:\n"
      "  cowwatchd                                  run with /etc/cowwatch/cowwatch.yaml or the built-in default\n"
      "  cowwatchd --config ./cowwatch.yaml         run with a specific file\n"
      "  cowwatchd --check-config /etc/cowwatch/cowwatch.yaml   validate a file and exit\n"
      "  cowwatchd --probes                         show which kernel hook each probe uses here, and why\n"
      "  curl -s 127.0.0.1:9479/metrics | grep cowwatch_probe_info\n\n"
      "Signals: SIGHUP reloads the configuration (an invalid file keeps the old one); SIGTERM/SIGINT\n"
      "detach every probe and exit 0.\n"
      "Exit codes: 0 ok; 1 runtime failure (BPF load, bind); 2 usage or invalid configuration;\n"
      "3 --strict and a required hook is unavailable.",
      "cowwatchd"};
  std::string config;
  std::string check;
  app.add_option("-c,--config", config, "configuration file (YAML)");
  auto* check_opt = app.add_option("--check-config", check, "validate FILE (default: the --config file) and exit")
                        ->expected(0, 1);
  app.add_flag("--strict", out->strict, "fail start-up when a hook listed in probes.required is unavailable");
  app.add_flag("--probes", out->probes, "probe the running kernel, print the plan per hook and exit");
  app.add_flag("--json", out->json, "with --probes: print JSON");
  app.add_flag("--version", out->version, "print the version and exit");
  app.add_flag("-v,--verbose", out->verbose, "log libbpf debug messages");
  std::string web_config;
  app.add_option("--web.config.file", web_config,
                 "TLS and basic-auth configuration of /metrics (exporter-toolkit format, as node_exporter's); "
                 "overrides metrics.web_config_file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!config.empty()) out->config_path = config;
  if (!web_config.empty()) out->web_config = web_config;
  if (check_opt->count() > 0) out->check_config = check.empty() ? config : check;
  return std::nullopt;
}

}  // namespace cowwatch::app
