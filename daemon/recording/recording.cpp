#include "recording/recording.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include "protocol/protocol.h"
#include "protocol/protocol_codec.h"
#include "protocol/protocol_names.h"

namespace cowwatch::control {

using nlohmann::json;

RecordingWriter::~RecordingWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

bool RecordingWriter::open(const std::string& path, const json& header, std::string* error) {
  file_ = path == "-" ? fdopen(dup(1), "w") : std::fopen(path.c_str(), "we");
  if (file_ == nullptr) {
    *error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  if (!put(header)) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool RecordingWriter::put(const json& line) {
  if (file_ == nullptr || failed_) return false;
  std::string s = to_line(line);
  if (std::fwrite(s.data(), 1, s.size(), file_) != s.size()) failed_ = true;
  return !failed_;
}

bool RecordingWriter::write_event(const cw_event& event) {
  return write_event_json(event_to_json(event));
}

bool RecordingWriter::write_event_json(const json& event) {
  ++events_;
  return put(json{{"event", event}});
}

bool RecordingWriter::write_sample(const ingest::KernelSample& sample) {
  return write_sample_json(sample_to_json(sample));
}

bool RecordingWriter::write_sample_json(const json& sample) {
  ++samples_;
  return put(json{{"sample", sample}});
}

bool RecordingWriter::write_exit_flush(const ingest::ProcessCounters& flush) {
  return write_exit_flush_json(exit_flush_to_json(flush));
}

bool RecordingWriter::write_exit_flush_json(const json& flush) { return put(json{{"exit", flush}}); }

bool RecordingWriter::write_identity(const cw_proc_key& key, const std::string& comm,
                                     const std::string& cgroup) {
  return put(json{{"identity",
                   {{"tgid", key.tgid}, {"start_ns", key.start_ns}, {"comm", comm}, {"cgroup", cgroup}}}});
}

bool RecordingWriter::write_lost(uint64_t lost) {
  lost_ += lost;
  return put(json{{"lost", lost}});
}

bool RecordingWriter::close(std::string* error) {
  if (file_ == nullptr) return true;
  put(json{{"end", {{"events", events_}, {"samples", samples_}, {"lost", lost_}}}});
  bool ok = !failed_ && std::fflush(file_) == 0;
  if (!ok) *error = std::string("write failed: ") + std::strerror(errno);
  if (std::fclose(file_) != 0 && ok) {
    ok = false;
    *error = std::string("close failed: ") + std::strerror(errno);
  }
  file_ = nullptr;
  return ok;
}

namespace {
// 2100-01-01: far beyond any real recording, and its nanoseconds fit std::chrono's int64 clocks
constexpr double kMaxUnixSeconds = 4102444800.0;

// An optional small integer of the header (absent: 0).
bool header_int(const json& raw, const char* key, int* out, std::string* error) {
  auto it = raw.find(key);
  if (it == raw.end()) {
    *out = 0;
    return true;
  }
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 1000000) {
    *error = std::string("recording header: \"") + key + "\" is not a small non-negative integer";
    return false;
  }
  *out = static_cast<int>(it->get<int64_t>());
  return true;
}
}  // namespace

bool parse_recording_header(const json& raw, RecordingHeader* out, std::string* error) {
  if (!raw.is_object() || raw.value("format", std::string()) != kRecordingFormat) {
    *error = "not a cowwatch recording (missing \"format\":\"cowwatch-recording\" header)";
    return false;
  }
  RecordingHeader h;
  h.raw = raw;
  if (!header_int(raw, "format_version", &h.format_version, error) ||
      !header_int(raw, "schema_version", &h.schema_version, error)) {
    return false;
  }
  if (auto created = raw.find("created_unix"); created != raw.end()) {
    // seconds since the epoch; bounded so that a time point in any clock's ticks is representable
    if (!created->is_number() || !(created->get<double>() >= 0 && created->get<double>() < kMaxUnixSeconds)) {
      *error = "recording header: \"created_unix\" is not a Unix time in seconds";
      return false;
    }
    h.created_unix = created->get<double>();
  }
  if (h.format_version < 1 || h.format_version > kRecordingFormatVersion) {
    *error = "recording format version " + std::to_string(h.format_version) +
             " is not supported (this build reads 1.." + std::to_string(kRecordingFormatVersion) +
             ")";
    return false;
  }
  h.kernel_release = raw.value("kernel_release", std::string());
  if (auto plan = raw.find("plan"); plan != raw.end()) {
    if (!plan_from_json(*plan, &h.plan, error)) return false;
  } else {
    for (int i = 0; i < CW_HOOK_COUNT; ++i) h.plan.hooks[i].hook = static_cast<cw_hook>(i);
  }
  if (h.plan.kernel_release.empty()) h.plan.kernel_release = h.kernel_release;
  auto counters = raw.find("counters");
  if (counters == raw.end() || !counters->is_array()) {
    *error = "recording header has no \"counters\" column list";
    return false;
  }
  for (const auto& name : *counters) {
    auto index = name.is_string() ? parse_counter(name.get<std::string>()) : std::nullopt;
    h.column_map.push_back(index.value_or(-1));
  }
  *out = std::move(h);
  return true;
}

bool RecordingReader::open(const std::string& path, std::string* error) {
  in_.open(path);
  if (!in_) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string line;
  if (!std::getline(in_, line)) {
    *error = path + " is empty";
    return false;
  }
  line_no_ = 1;
  json raw = json::parse(line, nullptr, false);
  if (raw.is_discarded()) {
    *error = path + ": not a cowwatch recording (first line is not JSON)";
    return false;
  }
  if (!parse_recording_header(raw, &header_, error)) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

bool RecordingReader::next(RecordingItem* item, std::string* error) {
  error->clear();
  std::string line;
  while (std::getline(in_, line)) {
    ++line_no_;
    if (line.empty()) continue;
    auto fail = [&](const std::string& why) {
      *error = "line " + std::to_string(line_no_) + ": " + why;
      return false;
    };
    json doc = json::parse(line, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return fail("not a JSON object");
    if (auto e = doc.find("event"); e != doc.end()) {
      item->kind = RecordingItemKind::kEvent;
      std::string why;
      if (!event_from_json(*e, &item->event, &why)) return fail("bad event: " + why);
      return true;
    }
    if (auto s = doc.find("sample"); s != doc.end()) {
      item->kind = RecordingItemKind::kSample;
      std::string why;
      if (!sample_from_json(*s, header_.column_map, &item->sample, &why)) {
        return fail("bad sample: " + why);
      }
      return true;
    }
    if (auto x = doc.find("exit"); x != doc.end()) {
      item->kind = RecordingItemKind::kExitFlush;
      std::string why;
      if (!exit_flush_from_json(*x, header_.column_map, &item->exit_flush, &why)) {
        return fail("bad exit: " + why);
      }
      return true;
    }
    if (auto id = doc.find("identity"); id != doc.end()) {
      if (!id->is_object() || !(*id)["tgid"].is_number_unsigned() ||
          (*id)["tgid"].get<uint64_t>() > UINT32_MAX ||
          !(*id)["start_ns"].is_number_unsigned() || !(*id)["comm"].is_string()) {
        return fail("bad identity");
      }
      item->kind = RecordingItemKind::kIdentity;
      item->identity.key = {(*id)["tgid"].get<uint32_t>(), 0, (*id)["start_ns"].get<uint64_t>()};
      item->identity.comm = (*id)["comm"].get<std::string>();
      item->identity.cgroup = id->value("cgroup", std::string());
      return true;
    }
    if (auto l = doc.find("lost"); l != doc.end()) {
      if (!l->is_number_integer() || l->get<int64_t>() < 0) return fail("bad lost count");
      item->kind = RecordingItemKind::kLost;
      item->lost = l->get<uint64_t>();
      return true;
    }
    if (auto end = doc.find("end"); end != doc.end()) {
      item->kind = RecordingItemKind::kEnd;
      item->end = *end;
      return true;
    }
    // Unknown line kinds from a newer writer are skipped.
  }
  return false;
}

}  // namespace cowwatch::control
