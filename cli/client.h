// The CLI's side of the control socket: connect, send one request, read its response, or
// follow a stream. Errors are classified so that commands map them to exit codes.
#pragma once

#include <chrono>
#include <atomic>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "protocol/protocol.h"

namespace cowwatch::cli {

struct CallError {
  int exit_code = 0;      // exit_codes.h
  std::string message;    // for stderr, one line
};

// Result of a request: either result (ok) or error.
struct CallResult {
  bool ok = false;
  nlohmann::json result;
  CallError error;
};

// Where requests go: the daemon's socket, or an in-process backend (replay, run).
class Source {
 public:
  virtual ~Source() = default;
  virtual CallResult call(const std::string& method, const nlohmann::json& params) = 0;
};

// Maps a daemon error response to an exit code and message.
CallError error_from_response(const std::string& code, const std::string& message);

class DaemonClient : public Source {
 public:
  explicit DaemonClient(std::string socket_path,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~DaemonClient() override;

  CallResult call(const std::string& method, const nlohmann::json& params) override;

  // Sends a streaming request (trace, record). on_result gets the first response's result
  // (returning false ends the call: its error is returned); then on_line gets every streamed
  // line until it returns false, the daemon closes, or *stop becomes true.
  using ResultHandler = std::function<bool(const nlohmann::json&, CallError*)>;
  using LineHandler = std::function<bool(const control::Response&)>;
  CallResult stream(const std::string& method, const nlohmann::json& params,
                    const ResultHandler& on_result, const LineHandler& on_line,
                    const std::atomic<bool>* stop);

 private:
  bool connect_socket(CallError* error);
  bool send_all(const std::string& bytes, CallError* error);
  // One line; timeout < 0 waits forever (interrupted when *stop).
  bool read_line(std::string* line, int timeout_ms, const std::atomic<bool>* stop, CallError* error);

  std::string path_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;
  int next_id_ = 1;
};

}  // namespace cowwatch::cli
