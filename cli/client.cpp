#include "cli/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/exit_codes.h"

namespace cowwatch::cli {

CallError error_from_response(const std::string& code, const std::string& message) {
  if (code == "permission_denied") {
    return {kExitPermission, message + " (run as root or as a member of the socket's group)"};
  }
  if (code == "not_found") return {kExitNotFound, message};
  if (code == "bad_params" || code == "unknown_method") return {kExitUsage, message};
  return {kExitError, "daemon error (" + code + "): " + message};
}

DaemonClient::DaemonClient(std::string socket_path, std::chrono::milliseconds timeout)
    : path_(std::move(socket_path)), timeout_(timeout) {}

DaemonClient::~DaemonClient() {
  if (fd_ >= 0) close(fd_);
}

bool DaemonClient::connect_socket(CallError* error) {
  if (fd_ >= 0) return true;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.empty() || path_.size() >= sizeof(addr.sun_path)) {
    *error = {kExitUsage, "invalid socket path: " + path_};
    return false;
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *error = {kExitError, std::string("socket: ") + std::strerror(errno)};
    return false;
  }
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return true;
  int err = errno;
  close(fd_);
  fd_ = -1;
  switch (err) {
    case ENOENT:
      *error = {kExitNoDaemon, "cowwatchd is not running: no socket at " + path_ +
                                   " (start it with `systemctl start cowwatch`, or pass "
                                   "--socket; `cowwatch probes` and `cowwatch run` work without it)"};
      break;
    case ECONNREFUSED:
      *error = {kExitNoDaemon, "cowwatchd is not running: " + path_ +
                                   " refuses connections (a stale socket from a stopped daemon?)"};
      break;
    case EACCES:
    case EPERM:
      *error = {kExitPermission, "permission denied connecting to " + path_ +
                                     " (run as root or as a member of the socket's group)"};
      break;
    default:
      *error = {kExitError, "cannot connect to " + path_ + ": " + std::strerror(err)};
  }
  return false;
}

bool DaemonClient::send_all(const std::string& bytes, CallError* error) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = {kExitError, std::string("sending to cowwatchd: ") + std::strerror(errno)};
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

bool DaemonClient::read_line(std::string* line, int timeout_ms, const std::atomic<bool>* stop,
                             CallError* error) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      line->assign(buffer_, 0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    if (stop != nullptr && *stop) {
      *error = {kExitOk, "interrupted"};
      return false;
    }
    int wait = 200;  // wake up regularly to notice *stop
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) {
        *error = {kExitError, "cowwatchd did not answer within " +
                                  std::to_string(timeout_ms / 1000) + " s"};
        return false;
      }
      wait = static_cast<int>(std::min<long long>(left, wait));
    }
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, wait);
    if (r < 0 && errno != EINTR) {
      *error = {kExitError, std::string("poll: ") + std::strerror(errno)};
      return false;
    }
    if (r <= 0) continue;
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = {kExitError, "cowwatchd closed the connection"};
      return false;
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

CallResult DaemonClient::call(const std::string& method, const nlohmann::json& params) {
  CallResult out;
  if (!connect_socket(&out.error)) return out;
  std::string line;
  if (!send_all(control::request_line(next_id_++, method, params), &out.error)) {
    // The daemon may have refused the connection (permission, too many clients) and closed
    // before our request went out: its explanation is still waiting to be read.
    CallError ignored;
    if (!read_line(&line, 1000, nullptr, &ignored)) return out;
  } else if (!read_line(&line, static_cast<int>(timeout_.count()), nullptr, &out.error)) {
    return out;
  }
  control::Response r = control::parse_response(line);
  if (r.kind == control::ResponseKind::kResult) {
    out.ok = true;
    out.result = std::move(r.payload);
  } else if (r.kind == control::ResponseKind::kError) {
    out.error = error_from_response(r.error_code, r.error_message);
  } else {
    out.error = {kExitError, "unexpected answer from cowwatchd: " + r.error_message};
  }
  return out;
}

CallResult DaemonClient::stream(const std::string& method, const nlohmann::json& params,
                                const ResultHandler& on_result, const LineHandler& on_line,
                                const std::atomic<bool>* stop) {
  CallResult first = call(method, params);
  if (!first.ok) return first;
  if (!on_result(first.result, &first.error)) {
    first.ok = false;
    return first;
  }
  std::string line;
  CallError error;
  while (read_line(&line, -1, stop, &error)) {
    control::Response r = control::parse_response(line);
    if (r.kind == control::ResponseKind::kError) {
      first.ok = false;
      first.error = error_from_response(r.error_code, r.error_message);
      return first;
    }
    if (!on_line(r)) break;
  }
  if (error.exit_code != kExitOk && !(stop != nullptr && *stop)) {
    first.ok = false;
    first.error = error;
  }
  return first;
}

}  // namespace cowwatch::cli
