#include "cli/streaming.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <set>
#include <cstdlib>
#include <thread>

#include "cli/exit_codes.h"
#include "cli/render.h"
#include "recording/recording.h"
#include "model/proc_reader.h"

namespace cowwatch::cli {

using nlohmann::json;

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(v) || v < 0) return std::nullopt;
  std::string unit(end);
  double ms;
  if (unit.empty() || unit == "s") ms = v * 1000;
  else if (unit == "ms") ms = v;
  else if (unit == "m") ms = v * 60'000;
  else if (unit == "h") ms = v * 3'600'000;
  else return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

int cmd_trace(DaemonClient& client, const TraceArgs& args, const Output& o,
              const std::atomic<bool>* stop) {
  json params = json::object();
  if (args.pid) params["pid"] = *args.pid;
  if (args.hook) params["hook"] = *args.hook;
  if (args.reason) params["reason"] = *args.reason;
  CallResult r = client.stream(
      "trace", params, [](const json&, CallError*) { return true; },
      [&](const control::Response& line) {
        if (line.kind == control::ResponseKind::kEvent) {
          if (o.json) {
            o.out << line.payload.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
          } else {
            o.out << render_event(line.payload) << "\n";
          }
          o.out.flush();
        } else if (line.kind == control::ResponseKind::kLost) {
          o.err << "cowwatch: " << line.payload.dump() << " events lost (reader too slow)\n";
        }
        return static_cast<bool>(o.out);
      },
      stop);
  if (!r.ok) {
    o.err << "cowwatch: " << r.error.message << "\n";
    return r.error.exit_code == kExitOk ? kExitError : r.error.exit_code;
  }
  return kExitOk;
}

int cmd_record(DaemonClient& client, const std::string& path,
               std::optional<std::chrono::milliseconds> duration, const Output& o,
               std::atomic<bool>* stop) {
  control::RecordingWriter writer;
  const auto deadline = duration ? std::chrono::steady_clock::now() + *duration
                                 : std::chrono::steady_clock::time_point::max();
  // The stream delivers nothing while the daemon is idle; a timer ends it on time.
  std::atomic<bool> done{false};
  std::thread timer;
  if (duration) {
    timer = std::thread([&] {
      while (!done && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      *stop = true;
    });
  }
  bool write_failed = false;
  // Who each process is, read from /proc here (the daemon's host) the first time a sample shows
  // it, so that a replay elsewhere can name it.
  model::ProcReader proc("/proc");
  std::set<std::pair<uint32_t, uint64_t>> identified;
  auto write_identities = [&](const json& sample) {
    auto procs = sample.find("processes");
    if (procs == sample.end() || !procs->is_array()) return true;
    for (const auto& p : *procs) {
      if (!p.is_object() || !p["tgid"].is_number_unsigned() || !p["start_ns"].is_number_unsigned()) {
        continue;
      }
      model::ProcKey key{p["tgid"].get<uint32_t>(), p["start_ns"].get<uint64_t>()};
      if (!identified.insert({key.tgid, key.start_ns}).second) continue;
      if (proc.liveness(key) != model::Liveness::kSame) continue;
      auto comm = proc.comm(key.tgid);
      if (!comm) continue;
      if (!writer.write_identity({key.tgid, 0, key.start_ns}, *comm,
                                 proc.cgroup(key.tgid).value_or(""))) {
        return false;
      }
    }
    return true;
  };
  CallResult r = client.stream(
      "record", json::object(),
      [&](const json& header, CallError* error) {
        json h = header;
        char host[256] = {};
        gethostname(host, sizeof(host) - 1);
        h["host"] = host;
        h["created_unix"] = std::chrono::duration<double>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        h["source"] = "daemon";
        control::RecordingHeader parsed;
        if (!control::parse_recording_header(h, &parsed, &error->message) ||
            !writer.open(path, h, &error->message)) {
          error->exit_code = kExitError;
          return false;
        }
        return true;
      },
      [&](const control::Response& line) {
        bool ok = true;
        switch (line.kind) {
          case control::ResponseKind::kEvent: ok = writer.write_event_json(line.payload); break;
          case control::ResponseKind::kSample:
            ok = write_identities(line.payload) && writer.write_sample_json(line.payload);
            break;
          case control::ResponseKind::kExitFlush:
            ok = writer.write_exit_flush_json(line.payload);
            break;
          case control::ResponseKind::kLost:
            ok = line.payload.is_number_unsigned() && writer.write_lost(line.payload.get<uint64_t>());
            break;
          default: break;
        }
        if (!ok) write_failed = true;
        return ok;
      },
      stop);
  done = true;
  if (timer.joinable()) timer.join();
  std::string error;
  bool closed = writer.close(&error);
  if (!r.ok) {
    o.err << "cowwatch: " << r.error.message << "\n";
    return r.error.exit_code == kExitOk ? kExitError : r.error.exit_code;
  }
  if (write_failed || !closed) {
    o.err << "cowwatch: writing " << path << " failed: " << error << "\n";
    return kExitError;
  }
  o.err << "cowwatch: recorded " << writer.events() << " events, " << writer.samples()
        << " samples" << (writer.lost() ? ", " + std::to_string(writer.lost()) + " lost" : "")
        << " to " << path << "\n";
  return kExitOk;
}

}  // namespace cowwatch::cli
