#include "cli/replay.h"

#include "config/config.h"

namespace cowwatch::cli {

model::AggregatorOptions offline_aggregator_options() {
  model::AggregatorOptions o;
  o.proc_root = "/nonexistent/cowwatch-replay/proc";
  o.cgroup_root = "/nonexistent/cowwatch-replay/cgroup";
  return o;
}

static bool load_recording_unchecked(const std::string& path, LoadedRecording* out, std::string* error) {
  // First pass: the process identities the recorder read from /proc, wherever they appear.
  {
    control::RecordingReader pre;
    if (!pre.open(path, error)) return false;
    control::RecordingItem item;
    while (pre.next(&item, error)) {
      if (item.kind != control::RecordingItemKind::kIdentity) continue;
      if (!out->identities) out->identities = std::make_unique<IdentityProc>();
      if (out->identities->add(item.identity)) ++out->identified;
    }
    if (!error->empty()) {
      *error = path + ": " + *error;
      return false;
    }
  }
  control::RecordingReader reader;
  if (!reader.open(path, error)) return false;
  out->header = reader.header();

  LocalSessionOptions options;
  options.source = "replay";
  options.aggregator = offline_aggregator_options();
  if (out->identities && out->identities->ok()) options.aggregator.proc_root = out->identities->root();
  options.rules = config::default_config().alerts.rules;
  options.wall_at_first = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(out->header.created_unix)));
  out->session = std::make_unique<LocalSession>(options, out->header.plan);

  control::RecordingItem item;
  while (reader.next(&item, error)) {
    switch (item.kind) {
      case control::RecordingItemKind::kEvent:
        out->session->on_event(item.event);
        ++out->events;
        break;
      case control::RecordingItemKind::kSample:
        out->session->on_sample(item.sample);
        ++out->samples;
        break;
      case control::RecordingItemKind::kExitFlush:
        out->session->on_exit_flush(item.exit_flush.key, item.exit_flush.counters);
        ++out->exits;
        break;
      case control::RecordingItemKind::kIdentity:
        break;  // used in the first pass
      case control::RecordingItemKind::kLost:
        out->session->add_lost(item.lost);
        out->lost += item.lost;
        break;
      case control::RecordingItemKind::kEnd:
        break;
    }
  }
  if (!error->empty()) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

bool load_recording(const std::string& path, LoadedRecording* out, std::string* error) {
  // A member of the wrong JSON type throws in nlohmann::json: report it as a bad recording
  // instead of terminating (found by fuzz_recording).
  try {
    return load_recording_unchecked(path, out, error);
  } catch (const nlohmann::json::exception& e) {
    if (error) *error = path + ": malformed recording: " + e.what();
    return false;
  }
}

}  // namespace cowwatch::cli
