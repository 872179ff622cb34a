#include "protocol/protocol.h"

#include <array>
#include <utility>

namespace cowwatch::control {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<ErrorCode, const char*>, 11> kErrorNames{{
    {ErrorCode::kBadRequest, "bad_request"},
    {ErrorCode::kUnsupportedVersion, "unsupported_version"},
    {ErrorCode::kUnknownMethod, "unknown_method"},
    {ErrorCode::kBadParams, "bad_params"},
    {ErrorCode::kRequestTooLarge, "request_too_large"},
    {ErrorCode::kPermissionDenied, "permission_denied"},
    {ErrorCode::kTooManyClients, "too_many_clients"},
    {ErrorCode::kTimeout, "timeout"},
    {ErrorCode::kNotFound, "not_found"},
    {ErrorCode::kUnavailable, "unavailable"},
    {ErrorCode::kInternal, "internal"},
}};

json envelope(const json& id) {
  json out = json::object();
  out["v"] = kProtocolVersion;
  out["id"] = id;
  return out;
}

bool is_valid_id(const json& id) {
  return id.is_null() || id.is_number_integer() || id.is_number_unsigned() || id.is_string();
}

}  // namespace

const char* error_code_name(ErrorCode code) {
  for (const auto& [c, name] : kErrorNames) {
    if (c == code) return name;
  }
  return "internal";
}

std::optional<ErrorCode> parse_error_code(std::string_view name) {
  for (const auto& [c, n] : kErrorNames) {
    if (name == n) return c;
  }
  return std::nullopt;
}

RequestParse parse_request(std::string_view line) {
  RequestParse out;
  json doc = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    out.message = "request is not valid JSON";
    return out;
  }
  if (!doc.is_object()) {
    out.message = "request must be a JSON object";
    return out;
  }
  if (auto it = doc.find("id"); it != doc.end()) {
    if (!is_valid_id(*it)) {
      out.message = "\"id\" must be an integer, a string or null";
      return out;
    }
    out.id = *it;
  }
  auto v = doc.find("v");
  if (v == doc.end() || !v->is_number_integer()) {
    out.message = "missing integer \"v\" (protocol version)";
    return out;
  }
  if (v->get<int64_t>() != kProtocolVersion) {
    out.code = ErrorCode::kUnsupportedVersion;
    out.message = "protocol version " + v->dump() + " not supported; this daemon speaks v" +
                  std::to_string(kProtocolVersion);
    return out;
  }
  auto method = doc.find("method");
  if (method == doc.end() || !method->is_string() || method->get<std::string>().empty()) {
    out.message = "missing string \"method\"";
    return out;
  }
  json params = json::object();
  if (auto p = doc.find("params"); p != doc.end() && !p->is_null()) {
    if (!p->is_object()) {
      out.code = ErrorCode::kBadParams;
      out.message = "\"params\" must be an object";
      return out;
    }
    params = *p;
  }
  out.ok = true;
  out.request.id = out.id;
  out.request.method = method->get<std::string>();
  out.request.params = std::move(params);
  return out;
}

std::string to_line(const json& value) {
  std::string s = value.dump(-1, ' ', false, json::error_handler_t::replace);
  s.push_back('\n');
  return s;
}

std::string request_line(const json& id, std::string_view method, const json& params) {
  json out = envelope(id);
  out["method"] = std::string(method);
  out["params"] = params.is_null() ? json::object() : params;
  return to_line(out);
}

std::string result_line(const json& id, const json& result) {
  json out = envelope(id);
  out["result"] = result;
  return to_line(out);
}

std::string error_line(const json& id, ErrorCode code, std::string_view message) {
  json out = envelope(id);
  out["error"] = {{"code", error_code_name(code)}, {"message", std::string(message)}};
  return to_line(out);
}

std::string stream_line(const json& id, std::string_view kind, const json& payload) {
  json out = envelope(id);
  out[std::string(kind)] = payload;
  return to_line(out);
}

Response parse_response(std::string_view line) {
  Response out;
  json doc = json::parse(line.begin(), line.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    out.error_message = "daemon sent a line that is not a JSON object";
    return out;
  }
  auto v = doc.find("v");
  if (v == doc.end() || !v->is_number_integer() || v->get<int64_t>() != kProtocolVersion) {
    out.error_message = "daemon speaks an unsupported protocol version";
    return out;
  }
  if (auto id = doc.find("id"); id != doc.end()) out.id = *id;
  if (auto r = doc.find("result"); r != doc.end()) {
    out.kind = ResponseKind::kResult;
    out.payload = *r;
  } else if (auto e = doc.find("error"); e != doc.end() && e->is_object()) {
    out.kind = ResponseKind::kError;
    auto code = e->find("code"), message = e->find("message");
    if ((code != e->end() && !code->is_string()) || (message != e->end() && !message->is_string())) {
      out.error_code = "internal";
      out.error_message = "daemon sent an error whose code or message is not a string";
    } else {
      out.error_code = code != e->end() ? code->get<std::string>() : "internal";
      out.error_message = message != e->end() ? message->get<std::string>() : "";
    }
  } else if (auto ev = doc.find("event"); ev != doc.end()) {
    out.kind = ResponseKind::kEvent;
    out.payload = *ev;
  } else if (auto s = doc.find("sample"); s != doc.end()) {
    out.kind = ResponseKind::kSample;
    out.payload = *s;
  } else if (auto x = doc.find("exit"); x != doc.end()) {
    out.kind = ResponseKind::kExitFlush;
    out.payload = *x;
  } else if (auto l = doc.find("lost"); l != doc.end()) {
    out.kind = ResponseKind::kLost;
    out.payload = *l;
  } else {
    out.error_message = "daemon sent a line with no result, error or stream payload";
  }
  return out;
}

}  // namespace cowwatch::control
