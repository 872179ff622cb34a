#include "control/control_dispatch.h"

#include <exception>
#include <initializer_list>
#include <string_view>

#include "protocol/protocol_codec.h"
#include "protocol/protocol_names.h"
#include "recording/recording.h"

namespace cowwatch::control {
namespace {

using nlohmann::json;

struct ParamError {
  std::string message;
};

// Rejects parameters the method does not know, so a typo is an error rather than ignored.
void only_keys(const json& params, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : params.items()) {
    bool known = false;
    for (auto a : allowed) known = known || key == a;
    if (!known) throw ParamError{"unknown parameter \"" + key + "\""};
  }
}

std::optional<uint64_t> get_uint(const json& params, const char* key, uint64_t min, uint64_t max) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return std::nullopt;
  bool is_uint = it->is_number_unsigned() || (it->is_number_integer() && it->get<int64_t>() >= 0);
  if (!is_uint || it->get<uint64_t>() < min || it->get<uint64_t>() > max) {
    throw ParamError{std::string("\"") + key + "\" must be an integer in [" + std::to_string(min) +
                     ", " + std::to_string(max) + "]"};
  }
  return it->get<uint64_t>();
}

std::optional<std::string> get_string(const json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return std::nullopt;
  if (!it->is_string() || it->get<std::string>().empty()) {
    throw ParamError{std::string("\"") + key + "\" must be a non-empty string"};
  }
  return it->get<std::string>();
}

std::optional<bool> get_bool(const json& params, const char* key) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw ParamError{std::string("\"") + key + "\" must be a boolean"};
  return it->get<bool>();
}

json plan_summary(const probe::ProbePlan& plan) {
  json hooks = json::array();
  for (const auto& h : plan.hooks) {
    hooks.push_back({{"hook", std::string(hook_label(h.hook))},
                     {"strategy", std::string(strategy_label(h.strategy))},
                     {"target", h.target},
                     {"exact", h.exact}});
  }
  return hooks;
}

TopParams top_params(const json& params) {
  only_keys(params, {"sort", "by", "limit"});
  TopParams out;
  if (auto sort = get_string(params, "sort"); sort && !parse_top_sort(*sort, &out.sort)) {
    throw ParamError{"\"sort\" must be one of copies, copied_bytes, unshares, swap_adds, faults"};
  }
  if (auto by = get_string(params, "by"); by && !parse_top_group(*by, &out.by)) {
    throw ParamError{"\"by\" must be one of process, cgroup, comm"};
  }
  if (auto limit = get_uint(params, "limit", 1, 10000)) out.limit = *limit;
  return out;
}

QueryParams query_params(const json& params) {
  only_keys(params, {"pid", "comm", "cgroup"});
  auto pid = get_uint(params, "pid", 1, UINT32_MAX);
  auto comm = get_string(params, "comm");
  auto cgroup = get_string(params, "cgroup");
  if (int(pid.has_value()) + int(comm.has_value()) + int(cgroup.has_value()) != 1) {
    throw ParamError{"exactly one of \"pid\", \"comm\", \"cgroup\" is required"};
  }
  QueryParams out;
  if (pid) {
    out.scope = QueryScope::kPid;
    out.pid = static_cast<uint32_t>(*pid);
  } else if (comm) {
    out.scope = QueryScope::kComm;
    out.name = *comm;
  } else {
    out.scope = QueryScope::kCgroup;
    out.name = *cgroup;
  }
  return out;
}

EventFilter trace_filter(const json& params) {
  only_keys(params, {"pid", "hook", "reason"});
  EventFilter f;
  if (auto pid = get_uint(params, "pid", 1, UINT32_MAX)) f.pid = static_cast<uint32_t>(*pid);
  if (auto hook = get_string(params, "hook")) {
    auto h = parse_hook(*hook);
    if (!h) throw ParamError{"unknown hook \"" + *hook + "\""};
    f.hook = static_cast<uint8_t>(*h);
  }
  if (auto reason = get_string(params, "reason")) {
    auto r = parse_reason(*reason);
    if (!r || *r == CW_REASON_COUNT) throw ParamError{"unknown copy reason \"" + *reason + "\""};
    f.reason = static_cast<uint8_t>(*r);
  }
  return f;
}

DispatchResult handle(const Request& req, QueryBackend& backend) {
  const json& params = req.params;
  const std::string& m = req.method;
  if (m == "status") {
    only_keys(params, {});
    probe::ProbePlan plan = backend.plan();
    json result = {{"daemon", backend.status()},
                   {"kernel", plan.kernel_release},
                   {"probes", plan_summary(plan)},
                   {"alerts", backend.alerts(false)}};
    return {result_line(req.id, result), std::nullopt};
  }
  if (m == "probes") {
    only_keys(params, {});
    return {result_line(req.id, plan_to_json(backend.plan())), std::nullopt};
  }
  if (m == "top") {
    return {result_line(req.id, backend.top(top_params(params))), std::nullopt};
  }
  if (m == "query") {
    QueryParams p = query_params(params);
    json result = backend.query(p);
    if (result.is_null()) {
      std::string what = p.scope == QueryScope::kPid ? std::to_string(p.pid) : p.name;
      return {error_line(req.id, ErrorCode::kNotFound,
                         std::string("no ") + query_scope_name(p.scope) + " " + what + " known"),
              std::nullopt};
    }
    return {result_line(req.id, result), std::nullopt};
  }
  if (m == "alerts") {
    only_keys(params, {"all"});
    bool all = get_bool(params, "all").value_or(false);
    return {result_line(req.id, backend.alerts(all)), std::nullopt};
  }
  if (m == "trace") {
    StreamRequest s{trace_filter(params), false};
    return {result_line(req.id, json{{"streaming", true}}), s};
  }
  if (m == "record") {
    only_keys(params, {});
    return {result_line(req.id, recording_header(backend.plan())), StreamRequest{{}, true}};
  }
  return {error_line(req.id, ErrorCode::kUnknownMethod, "unknown method \"" + m + "\""),
          std::nullopt};
}

}  // namespace

json recording_header(const probe::ProbePlan& plan) {
  return json{{"format", kRecordingFormat},
              {"format_version", kRecordingFormatVersion},
              {"schema_version", CW_SCHEMA_VERSION},
              {"page_size", CW_PAGE_SIZE},
              {"kernel_release", plan.kernel_release},
              {"counters", counter_names()},
              {"plan", plan_to_json(plan)}};
}

DispatchResult dispatch(const Request& request, QueryBackend& backend) {
  try {
    return handle(request, backend);
  } catch (const ParamError& e) {
    return {error_line(request.id, ErrorCode::kBadParams, e.message), std::nullopt};
  } catch (const std::exception& e) {
    return {error_line(request.id, ErrorCode::kInternal, e.what()), std::nullopt};
  }
}

}  // namespace cowwatch::control
