// Turns one parsed request into its response line by asking the backend. Pure apart from the
// backend calls, so it is tested without a socket. Streaming methods (trace, record) return the
// subscription the server must set up after writing the response line.
#pragma once

#include <optional>
#include <string>

#include "control/control_backend.h"
#include "control/control_stream.h"
#include "protocol/protocol.h"

namespace cowwatch::control {

struct StreamRequest {
  EventFilter filter;
  bool samples = false;   // record: counter samples too
};

struct DispatchResult {
  std::string line;                     // the response (result or error), newline included
  std::optional<StreamRequest> stream;  // set for a successful trace/record
};

// Methods: status, probes, top, query, alerts, trace, record (docs/protocol.md).
DispatchResult dispatch(const Request& request, QueryBackend& backend);

// The header a recording starts with, also the result of "record": schema, kernel, plan.
nlohmann::json recording_header(const probe::ProbePlan& plan);

}  // namespace cowwatch::control
