// `cowwatch replay`: reads a recording (recording/recording.h) into a LocalSession, so every report
// of the daemon (status, probes, top, query, alerts) is answered from it on any host.
#pragma once

#include <memory>
#include <string>

#include "cli/identity_proc.h"
#include "cli/local_session.h"
#include "recording/recording.h"

namespace cowwatch::cli {

struct LoadedRecording {
  control::RecordingHeader header;
  std::unique_ptr<IdentityProc> identities;  // outlives the session that reads it
  std::unique_ptr<LocalSession> session;
  uint64_t events = 0, samples = 0, exits = 0, lost = 0, identified = 0;
};

// False with *error (file name and line) when the file cannot be read or is not a recording.
bool load_recording(const std::string& path, LoadedRecording* out, std::string* error);

// Aggregator options for data from another host: no /proc or cgroup tree is consulted.
model::AggregatorOptions offline_aggregator_options();

}  // namespace cowwatch::cli
