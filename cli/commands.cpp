#include "cli/commands.h"

#include "cli/exit_codes.h"
#include "cli/render.h"
#include "control/control_dispatch.h"
#include "protocol/protocol.h"

namespace cowwatch::cli {
namespace {

using nlohmann::json;

using Renderer = std::string (*)(const json&);

int print_call(Source& source, const std::string& method, const json& params, Renderer render,
               const Output& o) {
  CallResult r = source.call(method, params);
  if (!r.ok) {
    o.err << "cowwatch: " << r.error.message << "\n";
    return r.error.exit_code == kExitOk ? kExitError : r.error.exit_code;
  }
  if (o.json) {
    o.out << r.result.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    o.out << render(r.result);
  }
  return kExitOk;
}

}  // namespace

CallResult BackendSource::call(const std::string& method, const json& params) {
  control::Request request{1, method, params.is_null() ? json::object() : params};
  control::DispatchResult d = control::dispatch(request, backend_);
  std::string_view line(d.line);
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  control::Response response = control::parse_response(line);
  CallResult out;
  if (response.kind == control::ResponseKind::kResult) {
    out.ok = true;
    out.result = std::move(response.payload);
  } else {
    out.error = error_from_response(response.error_code, response.error_message);
  }
  return out;
}

json TopArgs::params() const { return {{"sort", sort}, {"by", by}, {"limit", limit}}; }

json QueryArgs::params() const {
  json p = json::object();
  if (pid) p["pid"] = *pid;
  if (comm) p["comm"] = *comm;
  if (cgroup) p["cgroup"] = *cgroup;
  return p;
}

int cmd_status(Source& source, const Output& o) {
  return print_call(source, "status", json::object(), render_status, o);
}

int cmd_probes(Source& source, const Output& o) {
  return print_call(source, "probes", json::object(), render_probes, o);
}

int cmd_top_once(Source& source, const TopArgs& args, const Output& o) {
  return print_call(source, "top", args.params(), render_top, o);
}

int cmd_query(Source& source, const QueryArgs& args, const Output& o) {
  return print_call(source, "query", args.params(), render_query, o);
}

int cmd_alerts(Source& source, bool all, const Output& o) {
  return print_call(source, "alerts", {{"all", all}}, render_alerts, o);
}

void print_plan(const json& plan, const Output& o) {
  if (o.json) {
    o.out << plan.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    o.out << render_probes(plan);
  }
}

}  // namespace cowwatch::cli
