#include "cli/replay.h"

#include <cmath>

#include "config/config.h"

namespace cowwatch::cli {

model::AggregatorOptions offline_aggregator_options() {
  model::AggregatorOptions o;
  o.proc_root = "/nonexistent/cowwatch-replay/proc";
  o.cgroup_root = "/nonexistent/cowwatch-replay/cgroup";
  return o;
}

bool load_recording(const std::string& path, LoadedRecording* out, std::string* error) {
  control::RecordingReader reader;
  if (!reader.open(path, error)) return false;
  out->header = reader.header();

  LocalSessionOptions options;
  options.source = "replay";
  options.aggregator = offline_aggregator_options();
  options.rules = config::default_config().alerts.rules;
  double created = out->header.raw.value("created_unix", 0.0);
  options.wall_at_first = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::duration<double>(std::isfinite(created) ? created : 0.0)));
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

}  // namespace cowwatch::cli
