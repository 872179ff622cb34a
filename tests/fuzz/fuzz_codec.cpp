// Fuzz target: the JSON decoders of the shared records (protocol_codec.h), used by the CLI on
// every trace/record stream line and by replay: cw_event, counter arrays with a column map,
// KernelSample, exit flushes and the probe plan. Input: one JSON document; the first byte also
// picks a column map (identity, or a permutation/truncation like a recording from another schema).
// Properties: no exception escapes a decoder; whatever decodes re-encodes and decodes to the
// same value.
// Regression seeds: corpus/codec/{sample_program_name_number,plan_hook_number}.json once threw
// nlohmann::json::type_error out of sample_from_json / plan_from_json; program_stats_float_overflow.json
// was undefined behaviour (a float read into a uint64_t) under UBSan (docs/reliability.md).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "protocol/protocol_codec.h"
#include "fuzz_check.h"

namespace {

using namespace cowwatch;
using nlohmann::json;

std::vector<int> column_map_for(uint8_t selector) {
  std::vector<int> map;
  switch (selector % 4) {
    case 0:
      break;  // identity
    case 1:
      for (int i = CW_C_COUNT - 1; i >= 0; --i) map.push_back(i);
      break;
    case 2:
      for (int i = 0; i < CW_C_COUNT; i += 2) map.push_back(-1), map.push_back(i);
      break;
    case 3:
      map = {3, 3, 99, -7, 0};  // duplicates, out of range, negative: must be ignored safely
      break;
  }
  return map;
}

bool same_sample(const ingest::KernelSample& a, const ingest::KernelSample& b) {
  if (a.mono_ns != b.mono_ns || std::memcmp(&a.host, &b.host, sizeof(a.host)) != 0 ||
      a.drops != b.drops || a.process_map_capacity != b.process_map_capacity ||
      a.processes.size() != b.processes.size() || a.programs.size() != b.programs.size())
    return false;
  for (size_t i = 0; i < a.processes.size(); ++i)
    if (std::memcmp(&a.processes[i], &b.processes[i], sizeof(a.processes[i])) != 0) return false;
  for (size_t i = 0; i < a.programs.size(); ++i)
    if (a.programs[i].name != b.programs[i].name || a.programs[i].run_cnt != b.programs[i].run_cnt ||
        a.programs[i].run_time_ns != b.programs[i].run_time_ns ||
        a.programs[i].recursion_misses != b.programs[i].recursion_misses)
      return false;
  return true;
}

void decode_all(const json& j, const std::vector<int>& map) {
  std::string error;
  cw_event e{};
  if (control::event_from_json(j, &e, &error)) {
    cw_event back{};
    FUZZ_CHECK(control::event_from_json(control::event_to_json(e), &back, &error),
               "a decoded event re-decodes");
    FUZZ_CHECK(std::memcmp(&e, &back, sizeof(e)) == 0, "event decode/encode is stable");
  }
  cw_counters c{};
  if (control::counters_from_json(j, map, &c, &error)) {
    cw_counters back{};
    FUZZ_CHECK(control::counters_from_json(control::counters_to_json(c), {}, &back, &error),
               "decoded counters re-decode");
    FUZZ_CHECK(std::memcmp(&c, &back, sizeof(c)) == 0, "counter decode/encode is stable");
  }
  ingest::KernelSample s;
  if (control::sample_from_json(j, map, &s, &error)) {
    ingest::KernelSample back;
    FUZZ_CHECK(control::sample_from_json(control::sample_to_json(s), {}, &back, &error),
               "a decoded sample re-decodes");
    FUZZ_CHECK(same_sample(s, back), "sample decode/encode is stable");
  }
  ingest::ProcessCounters p{};
  if (control::exit_flush_from_json(j, map, &p, &error)) {
    ingest::ProcessCounters back{};
    FUZZ_CHECK(control::exit_flush_from_json(control::exit_flush_to_json(p), {}, &back, &error),
               "a decoded exit flush re-decodes");
    FUZZ_CHECK(std::memcmp(&p, &back, sizeof(p)) == 0, "exit flush decode/encode is stable");
  }
  probe::ProbePlan plan;
  if (control::plan_from_json(j, &plan, &error)) {
    probe::ProbePlan back;
    FUZZ_CHECK(control::plan_from_json(control::plan_to_json(plan), &back, &error),
               "a decoded plan re-decodes");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<int> map = column_map_for(data[0]);
  json j = json::parse(data + 1, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  decode_all(j, map);
  // The same decoders run on members of stream lines and recording lines.
  if (j.is_object())
    for (const auto& [key, value] : j.items()) decode_all(value, map);
  return 0;
}
