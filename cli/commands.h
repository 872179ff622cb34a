// The data commands, written once over a Source (the daemon's socket or an in-process backend),
// printing text or JSON. Each returns an exit code (exit_codes.h); errors go to `err`.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "control/control_backend.h"

namespace cowwatch::cli {

// A Source answering through control::dispatch on a backend: the same request handling as the
// daemon's socket, without a socket.
class BackendSource : public Source {
 public:
  explicit BackendSource(control::QueryBackend& backend) : backend_(backend) {}
  CallResult call(const std::string& method, const nlohmann::json& params) override;

 private:
  control::QueryBackend& backend_;
};

struct Output {
  std::ostream& out;
  std::ostream& err;
  bool json = false;
};

struct TopArgs {
  std::string sort = "copies";
  std::string by = "process";
  size_t limit = 20;
  nlohmann::json params() const;
};

struct QueryArgs {
  std::optional<uint32_t> pid;
  std::optional<std::string> comm;
  std::optional<std::string> cgroup;
  nlohmann::json params() const;
};

int cmd_status(Source& source, const Output& o);
int cmd_probes(Source& source, const Output& o);
int cmd_top_once(Source& source, const TopArgs& args, const Output& o);
int cmd_query(Source& source, const QueryArgs& args, const Output& o);
int cmd_alerts(Source& source, bool all, const Output& o);

// Prints a probe plan JSON (from the daemon or from probing the kernel here).
void print_plan(const nlohmann::json& plan, const Output& o);

}  // namespace cowwatch::cli
