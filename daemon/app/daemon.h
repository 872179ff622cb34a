// cowwatchd's life cycle as a short list of named start-up steps; teardown always runs (the
// destructors of the members, in reverse order: control socket, exporter, kernel session).
#pragma once

#include <memory>
#include <string>

#include "app/options.h"

namespace cowwatch::app {

// Exit codes (documented in --help and README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitStrict = 3;

int run_daemon(const Options& options);

// A start-up step failed: logs the message at error priority, hands it to the service manager as
// the unit's status text (`systemctl status` shows it) and returns code, the exit status.
int start_failed(int code, const std::string& message);

}  // namespace cowwatch::app
