// The recording file of `cowwatch record` / `cowwatch replay` (docs/protocol.md "Recordings").
// JSON lines: a self-describing header (format, format_version, schema_version, kernel_release,
// counter column names, probe plan, host, created_unix), then one line per item:
//   {"event":{...}}   a cw_event (protocol_codec.h encoding)
//   {"sample":{...}}  a KernelSample: exact counters at that moment
//   {"exit":{...}}    a process's final counters, read at its exit ({"tgid","start_ns","c"})
//   {"identity":{"tgid","start_ns","comm","cgroup"}}  who a process was, read from /proc by the
//                     recorder, so that a replay elsewhere names processes without their /proc
//   {"lost":N}        events the daemon dropped for the recorder
//   {"end":{"events":N,"samples":N,"lost":N}}   written on a clean close
// Columns of counter arrays are mapped by name, so a recording made with another schema version
// replays with the counters both versions know.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cowwatch.h"
#include "ingest/kernel_sample.h"
#include "probe/plan.h"

namespace cowwatch::control {

inline constexpr const char* kRecordingFormat = "cowwatch-recording";
inline constexpr int kRecordingFormatVersion = 1;

class RecordingWriter {
 public:
  RecordingWriter() = default;
  RecordingWriter(const RecordingWriter&) = delete;
  RecordingWriter& operator=(const RecordingWriter&) = delete;
  ~RecordingWriter();

  // header: control::recording_header(plan) plus anything the caller adds (host, created_unix).
  bool open(const std::string& path, const nlohmann::json& header, std::string* error);
  bool write_event(const cw_event& event);
  bool write_event_json(const nlohmann::json& event);  // already encoded (from the socket)
  bool write_sample(const ingest::KernelSample& sample);
  bool write_sample_json(const nlohmann::json& sample);
  bool write_exit_flush(const ingest::ProcessCounters& flush);
  bool write_exit_flush_json(const nlohmann::json& flush);
  bool write_identity(const cw_proc_key& key, const std::string& comm, const std::string& cgroup);
  bool write_lost(uint64_t lost);
  // Writes the end line and closes; false when any write failed.
  bool close(std::string* error);

  uint64_t events() const { return events_; }
  uint64_t samples() const { return samples_; }
  uint64_t lost() const { return lost_; }

 private:
  bool put(const nlohmann::json& line);

  std::FILE* file_ = nullptr;
  bool failed_ = false;
  uint64_t events_ = 0;
  uint64_t samples_ = 0;
  uint64_t lost_ = 0;
};

struct RecordingHeader {
  nlohmann::json raw;           // the header line as read
  int format_version = 0;
  int schema_version = 0;
  std::string kernel_release;
  double created_unix = 0;      // when the recording started (seconds since the epoch)
  probe::ProbePlan plan;
  std::vector<int> column_map;  // recording counter column -> our cw_counter (or -1)
};

enum class RecordingItemKind { kEvent, kSample, kExitFlush, kIdentity, kLost, kEnd };

struct ProcessIdentity {
  cw_proc_key key{};
  std::string comm;
  std::string cgroup;  // path below the cgroup2 root, "/" for the root; "" when unknown
};

struct RecordingItem {
  RecordingItemKind kind = RecordingItemKind::kEvent;
  cw_event event{};
  ingest::KernelSample sample;
  ingest::ProcessCounters exit_flush{};
  ProcessIdentity identity;
  uint64_t lost = 0;
  nlohmann::json end;           // kEnd: the totals the writer recorded
};

class RecordingReader {
 public:
  // Opens and validates the header.
  bool open(const std::string& path, std::string* error);
  const RecordingHeader& header() const { return header_; }
  // The next item; false at the end of the file (error empty) or on a bad line (error set,
  // with the line number).
  bool next(RecordingItem* item, std::string* error);

 private:
  std::ifstream in_;
  RecordingHeader header_;
  uint64_t line_no_ = 0;
};

// Validates a header object and fills *out (used by the reader and by `cowwatch record`).
bool parse_recording_header(const nlohmann::json& raw, RecordingHeader* out, std::string* error);

}  // namespace cowwatch::control
