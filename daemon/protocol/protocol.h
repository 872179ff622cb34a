// The control-socket protocol: one JSON object per line, in both directions (docs/protocol.md).
//   request : {"v":1,"id":7,"method":"status","params":{...}}
//   response: {"v":1,"id":7,"result":{...}}  or  {"v":1,"id":7,"error":{"code":"...","message":"..."}}
//   stream  : after a "trace"/"record" result, {"v":1,"id":7,"event":{...}}, {"v":1,"id":7,"sample":{...}}
//             {"v":1,"id":7,"exit":{...}} (record: final counters of an exited process) and
//             {"v":1,"id":7,"lost":N} (items the server had to drop for a slow reader).
// Framing and validation only; what a result holds is up to the method (control_server.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cowwatch::control {

inline constexpr int kProtocolVersion = 1;

enum class ErrorCode {
  kBadRequest,          // not JSON, not an object, missing/ill-typed "method"
  kUnsupportedVersion,  // "v" is not kProtocolVersion
  kUnknownMethod,
  kBadParams,           // params of the wrong type or out of range
  kRequestTooLarge,     // line longer than the server's limit; the server closes the connection
  kPermissionDenied,    // peer is not root, the daemon's user, or in the configured group
  kTooManyClients,
  kTimeout,             // no complete request within the read timeout; connection closed
  kNotFound,            // query scope (pid/comm/cgroup) not known
  kUnavailable,         // the daemon cannot answer this now (e.g. no data yet)
  kInternal,
};

const char* error_code_name(ErrorCode code);          // "bad_request", "unknown_method", ...
std::optional<ErrorCode> parse_error_code(std::string_view name);

struct Request {
  nlohmann::json id;       // echoed back; null when the request had none
  std::string method;
  nlohmann::json params;   // always an object (empty when absent)
};

struct RequestParse {
  bool ok = false;
  Request request;         // valid when ok
  ErrorCode code = ErrorCode::kBadRequest;
  std::string message;     // why it was rejected
  nlohmann::json id;       // the request's id when it could be read, for the error response
};

// Parses one request line (without its trailing newline).
RequestParse parse_request(std::string_view line);

// Serialises one line, newline included. Invalid UTF-8 (e.g. in a comm) is replaced, never thrown.
std::string to_line(const nlohmann::json& value);

std::string request_line(const nlohmann::json& id, std::string_view method,
                         const nlohmann::json& params);
std::string result_line(const nlohmann::json& id, const nlohmann::json& result);
std::string error_line(const nlohmann::json& id, ErrorCode code, std::string_view message);
std::string stream_line(const nlohmann::json& id, std::string_view kind,
                        const nlohmann::json& payload);

// A server line as the client sees it.
enum class ResponseKind { kResult, kError, kEvent, kSample, kExitFlush, kLost, kInvalid };

struct Response {
  ResponseKind kind = ResponseKind::kInvalid;
  nlohmann::json id;
  nlohmann::json payload;        // result, event, sample, exit flush, or the lost count
  std::string error_code;        // kError: the code name as sent
  std::string error_message;     // kError, or why the line is kInvalid
};

Response parse_response(std::string_view line);

}  // namespace cowwatch::control
