// A minimal blocking test client for the control socket, with deadlines on every read.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace cowwatch::control::testing {

class TestClient {
 public:
  // Connects; error() holds errno when it failed.
  explicit TestClient(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      error_ = errno;
      close(fd_);
      fd_ = -1;
    }
  }
  ~TestClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return fd_ >= 0; }
  int error() const { return error_; }

  bool send_raw(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // The next line (without newline), or nullopt on EOF/timeout (eof() tells which).
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char tmp[65536];
      ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        eof_ = true;
        return std::nullopt;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  std::optional<nlohmann::json> read_json(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto line = read_line(timeout);
    if (!line) return std::nullopt;
    return nlohmann::json::parse(*line);
  }

  // True when the server closes the connection within timeout (after any pending lines).
  bool wait_eof(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!eof_ && std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (!read_line(left) && !eof_) return false;
    }
    return eof_;
  }
  bool eof() const { return eof_; }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  nlohmann::json call(const std::string& method, const nlohmann::json& params = nlohmann::json::object(),
                      const nlohmann::json& id = 1) {
    nlohmann::json req = {{"v", 1}, {"id", id}, {"method", method}, {"params", params}};
    send_raw(req.dump() + "\n");
    auto r = read_json();
    return r ? *r : nlohmann::json();
  }

 private:
  int fd_ = -1;
  int error_ = 0;
  bool eof_ = false;
  std::string buf_;
};

}  // namespace cowwatch::control::testing
