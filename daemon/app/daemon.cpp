// cowwatchd start-up: a list of named steps (run_daemon below), each logging what it did or why it
// failed; teardown is the members' destructors in reverse order, so it always runs.
#include "app/daemon.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "app/config_mapping.h"
#include "app/event_loop.h"
#include "app/log.h"
#include "app/plan_text.h"
#include "app/system.h"
#include "config/config.h"
#include "config/web_config.h"
#include "cowwatch_version.h"
#include "protocol/protocol_codec.h"
#include "loader/kernel_session.h"
#include "loader/libbpf_log.h"

namespace cowwatch::app {
namespace {



// The file to read: --config, else /etc/cowwatch/cowwatch.yaml when it exists, else the default.
std::optional<std::string> config_file(const Options& options) {
  if (options.config_path) return options.config_path;
  if (access(config::kDefaultConfigPath, F_OK) == 0) return std::string(config::kDefaultConfigPath);
  return std::nullopt;
}

config::Result<config::Config> load_config(const std::optional<std::string>& path) {
  if (!path) return config::Result<config::Config>::success(config::default_config());
  return config::load_config_file(*path);
}

int check_config(const std::string& path, const std::optional<std::string>& web_config) {
  auto loaded = path.empty() ? load_config(std::nullopt) : config::load_config_file(path);
  if (!loaded) {
    std::cerr << loaded.error() << "\n";
    return kExitUsage;
  }
  const std::string web = web_config.value_or(loaded.value().metrics.web_config_file);
  if (!web.empty()) {
    auto checked = config::load_web_config(web);
    if (!checked) {
      std::cerr << checked.error() << "\n";
      return kExitUsage;
    }
    std::cout << web << ": web configuration OK\n";
  }
  std::cout << (path.empty() ? std::string("built-in default") : path) << ": configuration OK\n";
  return kExitOk;
}

int print_probes(const Options& options, const config::Config& config) {
  std::string error;
  auto session = loader::KernelSession::open(kernel_options(config), &error);
  if (!session) {
    std::cerr << "cowwatchd: " << error << "\n";
    return kExitFailure;
  }
  if (options.json)
    std::cout << control::plan_to_json(session->plan()).dump(2) << "\n";
  else
    std::cout << plan_to_text(session->plan(), true);
  return kExitOk;
}

}  // namespace

int start_failed(int code, const std::string& message) {
  log_error(message);
  notify_status("start-up failed: " + message);
  return code;
}

int run_daemon(const Options& options) {
  if (options.version) {
    std::cout << "cowwatchd " << COWWATCH_VERSION << " (" << COWWATCH_REVISION << ")\n";
    return kExitOk;
  }
  if (options.check_config) return check_config(*options.check_config, options.web_config);

  loader::set_libbpf_log_sink([](const std::string& m) { log_debug(m); }, options.verbose);

  // Step 1: configuration.
  auto path = config_file(options);
  auto loaded = load_config(path);
  if (!loaded) return start_failed(kExitUsage, "invalid configuration: " + loaded.error());
  config::Config config = loaded.value();
  if (options.web_config) config.metrics.web_config_file = *options.web_config;
  set_log_level(options.verbose ? Level::kDebug : to_level(config.daemon.log_level));
  if (options.probes) return print_probes(options, config);

  extern int serve(const Options& options, const config::Config& config,
                   const std::optional<std::string>& config_path);
  return serve(options, config, path);
}

}  // namespace cowwatch::app
