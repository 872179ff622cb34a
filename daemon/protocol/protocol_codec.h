// JSON encodings of the shared records, used on the control socket (trace, record, probes) and in
// recordings. Enum fields are written by name (protocol_names.h); decoding accepts names or
// numbers. Counter arrays are in cw_counter order; counter_names() lists that order so a reader
// can map columns by name (a recording from a newer schema keeps the columns it knows).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cowwatch.h"
#include "ingest/kernel_sample.h"
#include "probe/plan.h"

namespace cowwatch::control {

nlohmann::json event_to_json(const cw_event& event);
// False (with *error) when a required field is missing or a value is out of range.
bool event_from_json(const nlohmann::json& j, cw_event* out, std::string* error);

nlohmann::json counters_to_json(const cw_counters& counters);  // array of CW_C_COUNT numbers
nlohmann::json counter_names();                                 // ["wp_write", ...]

// column_map[i] is our cw_counter index for column i of the encoded arrays, or -1 to ignore it;
// empty means the identity (same schema as ours).
bool counters_from_json(const nlohmann::json& j, const std::vector<int>& column_map,
                        cw_counters* out, std::string* error);

nlohmann::json sample_to_json(const ingest::KernelSample& sample);
bool sample_from_json(const nlohmann::json& j, const std::vector<int>& column_map,
                      ingest::KernelSample* out, std::string* error);

// A process's final counters at exit: {"tgid","start_ns","c":[...]}.
nlohmann::json exit_flush_to_json(const ingest::ProcessCounters& flush);
bool exit_flush_from_json(const nlohmann::json& j, const std::vector<int>& column_map,
                          ingest::ProcessCounters* out, std::string* error);

nlohmann::json plan_to_json(const probe::ProbePlan& plan);
bool plan_from_json(const nlohmann::json& j, probe::ProbePlan* out, std::string* error);

}  // namespace cowwatch::control
