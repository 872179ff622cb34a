#include "protocol/protocol_codec.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "protocol/protocol_names.h"

namespace cowwatch::control {
namespace {

using nlohmann::json;

std::string comm_string(const char (&comm)[CW_COMM_LEN]) {
  size_t n = strnlen(comm, CW_COMM_LEN);
  return std::string(comm, n);
}

bool is_unsigned(const json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
}

template <typename T>
bool read_uint(const json& j, const char* key, T* out, std::string* error) {
  auto it = j.find(key);
  if (it == j.end() || !is_unsigned(*it) || it->get<uint64_t>() > std::numeric_limits<T>::max()) {
    *error = std::string("field \"") + key + "\" missing or not an unsigned integer in range";
    return false;
  }
  *out = static_cast<T>(it->get<uint64_t>());
  return true;
}

// An optional unsigned field: absent leaves *out as it is; present must be an unsigned integer.
bool read_optional_uint(const json& j, const char* key, uint64_t* out, std::string* error) {
  if (!j.contains(key)) return true;
  return read_uint(j, key, out, error);
}

bool read_int32(const json& j, const char* key, int32_t* out, std::string* error) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() ||
      it->get<int64_t>() < std::numeric_limits<int32_t>::min() ||
      it->get<int64_t>() > std::numeric_limits<int32_t>::max()) {
    *error = std::string("field \"") + key + "\" missing or not a 32-bit integer";
    return false;
  }
  *out = static_cast<int32_t>(it->get<int64_t>());
  return true;
}

// A name from `parse`, or a number below `limit`.
template <typename Parse>
bool read_enum(const json& j, const char* key, Parse parse, int limit, uint8_t* out,
               std::string* error) {
  auto it = j.find(key);
  if (it != j.end() && it->is_string()) {
    if (auto v = parse(it->get<std::string>())) {
      *out = static_cast<uint8_t>(*v);
      return true;
    }
  } else if (it != j.end() && it->is_number_integer() && it->get<int64_t>() >= 0 &&
             it->get<int64_t>() <= limit) {
    *out = static_cast<uint8_t>(it->get<int64_t>());
    return true;
  }
  *error = std::string("field \"") + key + "\" missing or not a known name";
  return false;
}

json enum_value(std::string_view name, int raw) {
  if (name == "unknown") return raw;
  return std::string(name);
}

}  // namespace

json event_to_json(const cw_event& e) {
  return json{
      {"ts_ns", e.ts_ns},
      {"type", enum_value(event_type_label(e.type), e.type)},
      {"hook", enum_value(hook_label(e.hook), e.hook)},
      {"tgid", e.tgid},
      {"start_ns", e.start_ns},
      {"pid", e.pid},
      {"actor_tgid", e.actor_tgid},
      {"comm", comm_string(e.comm)},
      {"cgroup_id", e.cgroup_id},
      {"address", e.address},
      {"decision", enum_value(decision_label(e.decision), e.decision)},
      {"reason", enum_value(reason_label(e.reason), e.reason)},
      {"fault_flags", e.fault_flags},
      {"page_flags", e.page_flags},
      {"folio_order", e.folio_order},
      {"refcount", e.refcount},
      {"mapcount", e.mapcount},
      {"anomaly", e.anomaly},
      {"aux0", e.aux0},
      {"aux1", e.aux1},
      {"aux2", e.aux2},
  };
}

static bool event_from_json_unchecked(const json& j, cw_event* out, std::string* error) {
  if (!j.is_object()) {
    *error = "event is not an object";
    return false;
  }
  cw_event e{};
  bool ok = read_uint(j, "ts_ns", &e.ts_ns, error) && read_uint(j, "start_ns", &e.start_ns, error) &&
            read_uint(j, "cgroup_id", &e.cgroup_id, error) &&
            read_uint(j, "address", &e.address, error) && read_uint(j, "aux0", &e.aux0, error) &&
            read_uint(j, "aux1", &e.aux1, error) && read_uint(j, "tgid", &e.tgid, error) &&
            read_uint(j, "pid", &e.pid, error) && read_uint(j, "actor_tgid", &e.actor_tgid, error) &&
            read_uint(j, "aux2", &e.aux2, error) && read_int32(j, "refcount", &e.refcount, error) &&
            read_int32(j, "mapcount", &e.mapcount, error) &&
            read_enum(j, "type", parse_event_type, 255, &e.type, error) &&
            read_enum(j, "hook", parse_hook, 255, &e.hook, error) &&
            read_enum(j, "decision", parse_decision, 255, &e.decision, error) &&
            read_enum(j, "reason", parse_reason, 255, &e.reason, error) &&
            read_uint(j, "fault_flags", &e.fault_flags, error) &&
            read_uint(j, "page_flags", &e.page_flags, error) &&
            read_uint(j, "folio_order", &e.folio_order, error) &&
            read_uint(j, "anomaly", &e.anomaly, error);
  if (!ok) return false;
  auto comm = j.find("comm");
  if (comm == j.end() || !comm->is_string()) {
    *error = "field \"comm\" missing or not a string";
    return false;
  }
  const std::string& s = comm->get_ref<const std::string&>();
  std::memcpy(e.comm, s.data(), std::min(s.size(), sizeof(e.comm) - 1));
  *out = e;
  return true;
}

json counters_to_json(const cw_counters& counters) {
  json out = json::array();
  for (uint64_t v : counters.c) out.push_back(v);
  return out;
}

json counter_names() {
  json out = json::array();
  for (int i = 0; i < CW_C_COUNT; ++i) out.push_back(std::string(counter_label(i)));
  return out;
}

static bool counters_from_json_unchecked(const json& j, const std::vector<int>& column_map, cw_counters* out,
                        std::string* error) {
  if (!j.is_array()) {
    *error = "counters are not an array";
    return false;
  }
  cw_counters c{};
  for (size_t i = 0; i < j.size(); ++i) {
    int index = column_map.empty() ? static_cast<int>(i)
                                   : (i < column_map.size() ? column_map[i] : -1);
    if (index < 0 || index >= CW_C_COUNT) continue;
    if (!is_unsigned(j[i])) {
      *error = "counter value is not an unsigned integer";
      return false;
    }
    c.c[index] = j[i].get<uint64_t>();
  }
  *out = c;
  return true;
}

json sample_to_json(const ingest::KernelSample& s) {
  json drops = json::object();
  for (int i = 0; i < CW_DROP_COUNT; ++i) drops[std::string(drop_cause_label(i))] = s.drops[i];
  json processes = json::array();
  for (const auto& p : s.processes) processes.push_back(exit_flush_to_json(p));
  json programs = json::array();
  for (const auto& p : s.programs) {
    programs.push_back({{"name", p.name},
                        {"run_time_ns", p.run_time_ns},
                        {"run_cnt", p.run_cnt},
                        {"recursion_misses", p.recursion_misses}});
  }
  return json{{"mono_ns", s.mono_ns},
              {"host", counters_to_json(s.host)},
              {"drops", drops},
              {"processes", processes},
              {"process_map_capacity", s.process_map_capacity},
              {"programs", programs}};
}

static bool sample_from_json_unchecked(const json& j, const std::vector<int>& column_map, ingest::KernelSample* out,
                      std::string* error) {
  if (!j.is_object()) {
    *error = "sample is not an object";
    return false;
  }
  ingest::KernelSample s;
  if (!read_uint(j, "mono_ns", &s.mono_ns, error)) return false;
  if (!counters_from_json(j.value("host", json()), column_map, &s.host, error)) return false;
  if (auto d = j.find("drops"); d != j.end() && d->is_object()) {
    for (const auto& [name, value] : d->items()) {
      auto cause = parse_drop_cause(name);
      if (cause && is_unsigned(value)) {
        s.drops[*cause] = value.get<uint64_t>();
      }
    }
  }
  if (auto p = j.find("processes"); p != j.end()) {
    if (!p->is_array()) {
      *error = "\"processes\" is not an array";
      return false;
    }
    for (const auto& entry : *p) {
      ingest::ProcessCounters pc{};
      if (!exit_flush_from_json(entry, column_map, &pc, error)) return false;
      s.processes.push_back(pc);
    }
  }
  if (j.contains("process_map_capacity") &&
      !read_uint(j, "process_map_capacity", &s.process_map_capacity, error)) {
    return false;
  }
  if (auto p = j.find("programs"); p != j.end() && p->is_array()) {
    for (const auto& entry : *p) {
      if (!entry.is_object()) continue;
      ingest::ProgramStats ps;
      if (auto name = entry.find("name"); name != entry.end() && name->is_string()) ps.name = *name;
      if (!read_optional_uint(entry, "run_time_ns", &ps.run_time_ns, error) ||
          !read_optional_uint(entry, "run_cnt", &ps.run_cnt, error) ||
          !read_optional_uint(entry, "recursion_misses", &ps.recursion_misses, error)) {
        *error = "program statistics: " + *error;
        return false;
      }
      s.programs.push_back(std::move(ps));
    }
  }
  *out = std::move(s);
  return true;
}

json exit_flush_to_json(const ingest::ProcessCounters& p) {
  return {{"tgid", p.key.tgid}, {"start_ns", p.key.start_ns}, {"c", counters_to_json(p.counters)}};
}

static bool exit_flush_from_json_unchecked(const json& j, const std::vector<int>& column_map,
                          ingest::ProcessCounters* out, std::string* error) {
  ingest::ProcessCounters pc{};
  if (!j.is_object()) {
    *error = "process entry is not an object";
    return false;
  }
  if (!read_uint(j, "tgid", &pc.key.tgid, error) ||
      !read_uint(j, "start_ns", &pc.key.start_ns, error) ||
      !counters_from_json(j.value("c", json()), column_map, &pc.counters, error)) {
    return false;
  }
  *out = pc;
  return true;
}

json plan_to_json(const probe::ProbePlan& plan) {
  json hooks = json::array();
  for (const auto& h : plan.hooks) {
    json ladder = json::array();
    for (const auto& r : h.ladder) {
      ladder.push_back({{"strategy", std::string(strategy_label(r.strategy))},
                        {"target", r.target},
                        {"chosen", r.chosen},
                        {"outcome", r.outcome}});
    }
    hooks.push_back({{"hook", std::string(hook_label(h.hook))},
                     {"strategy", std::string(strategy_label(h.strategy))},
                     {"target", h.target},
                     {"exact", h.exact},
                     {"accuracy", h.accuracy},
                     {"ladder", ladder}});
  }
  return json{{"kernel_release", plan.kernel_release},
              {"fork_pinned_copies_seen", plan.fork_pinned_copies_seen},
              {"hooks", hooks}};
}

static bool plan_from_json_unchecked(const json& j, probe::ProbePlan* out, std::string* error) {
  if (!j.is_object() || !j.contains("hooks") || !j["hooks"].is_array()) {
    *error = "probe plan must be an object with a \"hooks\" array";
    return false;
  }
  probe::ProbePlan plan;
  for (int i = 0; i < CW_HOOK_COUNT; ++i) plan.hooks[i].hook = static_cast<cw_hook>(i);
  plan.kernel_release = j.value("kernel_release", std::string());
  plan.fork_pinned_copies_seen = j.value("fork_pinned_copies_seen", false);
  for (const auto& h : j["hooks"]) {
    if (!h.is_object()) continue;
    auto hook = parse_hook(h.value("hook", std::string()));
    if (!hook) continue;  // a hook this build does not know
    probe::HookPlan& hp = plan.hooks[*hook];
    hp.strategy = parse_strategy(h.value("strategy", std::string()))
                      .value_or(probe::Strategy::kUnavailable);
    hp.target = h.value("target", std::string());
    hp.exact = h.value("exact", false);
    hp.accuracy = h.value("accuracy", std::string());
    if (auto l = h.find("ladder"); l != h.end() && l->is_array()) {
      for (const auto& r : *l) {
        if (!r.is_object()) continue;
        probe::Rung rung{parse_strategy(r.value("strategy", std::string()))
                             .value_or(probe::Strategy::kUnavailable),
                         r.value("target", std::string()), r.value("chosen", false),
                         r.value("outcome", std::string())};
        hp.ladder.push_back(std::move(rung));
      }
    }
  }
  *out = std::move(plan);
  return true;
}

namespace {

// Members of the wrong JSON type throw in nlohmann::json's get/value: a decoding error, not a
// crash (found by the fuzz targets).
template <class Decode>
bool guarded(std::string* error, Decode decode) {
  try {
    return decode();
  } catch (const json::exception& e) {
    if (error) *error = std::string("malformed record: ") + e.what();
    return false;
  }
}

}  // namespace

bool event_from_json(const json& j, cw_event* out, std::string* error) {
  return guarded(error, [&] { return event_from_json_unchecked(j, out, error); });
}

bool counters_from_json(const json& j, const std::vector<int>& column_map, cw_counters* out,
                        std::string* error) {
  return guarded(error, [&] { return counters_from_json_unchecked(j, column_map, out, error); });
}

bool sample_from_json(const json& j, const std::vector<int>& column_map, ingest::KernelSample* out,
                      std::string* error) {
  return guarded(error, [&] { return sample_from_json_unchecked(j, column_map, out, error); });
}

bool exit_flush_from_json(const json& j, const std::vector<int>& column_map,
                          ingest::ProcessCounters* out, std::string* error) {
  return guarded(error, [&] { return exit_flush_from_json_unchecked(j, column_map, out, error); });
}

bool plan_from_json(const json& j, probe::ProbePlan* out, std::string* error) {
  return guarded(error, [&] { return plan_from_json_unchecked(j, out, error); });
}

}  // namespace cowwatch::control
