// The streaming commands over the daemon's socket: `trace` (events as lines) and `record`
// (events, exit flushes and counter samples into a recording file).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "cli/client.h"
#include "cli/commands.h"

namespace cowwatch::cli {

struct TraceArgs {
  std::optional<uint32_t> pid;
  std::optional<std::string> hook;
  std::optional<std::string> reason;
};

// Until *stop (Ctrl-C) or the daemon closes.
int cmd_trace(DaemonClient& client, const TraceArgs& args, const Output& o,
              const std::atomic<bool>* stop);

// Until *stop, or for `duration` when set.
int cmd_record(DaemonClient& client, const std::string& path,
               std::optional<std::chrono::milliseconds> duration, const Output& o,
               std::atomic<bool>* stop);

// "30s", "5m", "1h", "250ms", or a plain number of seconds.
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text);

}  // namespace cowwatch::cli
