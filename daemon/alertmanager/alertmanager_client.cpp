#include "alertmanager/alertmanager_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "alerts/alert_log.h"

namespace cowwatch::exporter {
namespace {

using Clock = std::chrono::steady_clock;

// ---- a minimal HTTP/1.1 client -------------------------------------------------------------

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on fd until `deadline`. Returns "" or an error text.
std::string wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return "timed out";
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, 60000)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::string("poll: ") + std::strerror(errno);
    if (n > 0) return "";
  }
}

std::string connect_to(const config::HttpUrl& url, Clock::time_point deadline, int* out_fd) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(url.port);
  if (const int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    return "resolve " + url.host + ": " + ::gai_strerror(rc);
  }
  std::string error = "no address for " + url.host;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      *out_fd = fd;
      ::freeaddrinfo(list);
      return "";
    }
    if (errno == EINPROGRESS) {
      error = wait_for(fd, POLLOUT, deadline);
      if (error.empty()) {
        int so_error = 0;
        socklen_t len = sizeof so_error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
        if (so_error == 0) {
          *out_fd = fd;
          ::freeaddrinfo(list);
          return "";
        }
        error = std::string("connect: ") + std::strerror(so_error);
      } else {
        error = "connect: " + error;
      }
    } else {
      error = std::string("connect: ") + std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(list);
  return error;
}

std::string host_header(const config::HttpUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return (v6 ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

}  // namespace

config::Result<int> http_post_json(const config::HttpUrl& url, const std::string& path,
                                   const std::string& body, std::chrono::nanoseconds timeout) {
  using R = config::Result<int>;
  const auto deadline = Clock::now() + timeout;
  int raw_fd = -1;
  if (std::string error = connect_to(url, deadline, &raw_fd); !error.empty()) return R::failure(error);
  Socket socket(raw_fd);

  const std::string request = "POST " + path + " HTTP/1.1\r\nHost: " + host_header(url) +
                              "\r\nUser-Agent: cowwatch\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (std::string error = wait_for(socket.fd(), POLLOUT, deadline); !error.empty()) {
        return R::failure("send: " + error);
      }
      continue;
    }
    return R::failure(std::string("send: ") + std::strerror(errno));
  }

  // The status line is all we need ("HTTP/1.1 200 OK\r\n").
  std::string response;
  while (response.find("\r\n") == std::string::npos && response.size() < 4096) {
    char buf[1024];
    const ssize_t n = ::recv(socket.fd(), buf, sizeof buf, 0);
    if (n > 0) {
      response.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return R::failure("connection closed before a response");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (std::string error = wait_for(socket.fd(), POLLIN, deadline); !error.empty()) {
        return R::failure("receive: " + error);
      }
      continue;
    }
    return R::failure(std::string("receive: ") + std::strerror(errno));
  }
  int status = 0;
  if (std::sscanf(response.c_str(), "HTTP/1.%*d %d", &status) != 1 || status < 100 || status > 599) {
    return R::failure("malformed HTTP response: " + response.substr(0, response.find("\r\n")));
  }
  return R::success(status);
}

std::string alertmanager_payload(const std::vector<alerts::Alert>& list,
                                 std::chrono::system_clock::time_point now,
                                 std::chrono::nanoseconds firing_ttl, const std::string& generator_url) {
  nlohmann::json array = nlohmann::json::array();
  for (const alerts::Alert& alert : list) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& [name, value] : alert.labels) {
      if (!value.empty()) labels[name] = value;  // an empty value means "no such label"
    }
    nlohmann::json item = {
        {"labels", labels},
        {"annotations", alert.annotations},
        {"startsAt", alerts::format_rfc3339(alert.starts_at)},
        {"endsAt", alerts::format_rfc3339(
                       alert.ends_at ? *alert.ends_at
                                     : now + std::chrono::duration_cast<std::chrono::system_clock::duration>(firing_ttl))},
    };
    if (!generator_url.empty()) item["generatorURL"] = generator_url;
    array.push_back(std::move(item));
  }
  return array.dump();
}

config::Result<std::unique_ptr<AlertmanagerClient>> AlertmanagerClient::create(AlertmanagerOptions options) {
  using R = config::Result<std::unique_ptr<AlertmanagerClient>>;
  auto url = config::parse_http_url(options.url);
  if (!url) return R::failure("alertmanager url '" + options.url + "': " + url.error());
  if (options.max_queue == 0) options.max_queue = 1;
  return R::success(std::unique_ptr<AlertmanagerClient>(
      new AlertmanagerClient(std::move(options), std::move(url).value())));
}

AlertmanagerClient::AlertmanagerClient(AlertmanagerOptions options, config::HttpUrl url)
    : options_(std::move(options)), url_(std::move(url)) {
  worker_ = std::thread([this] { run(); });
}

AlertmanagerClient::~AlertmanagerClient() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void AlertmanagerClient::submit(const std::vector<alerts::AlertTransition>& transitions) {
  if (transitions.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (const auto& t : transitions) {
      const std::string key = t.alert.rule + '\n' + t.alert.subject;
      if (t.state == alerts::AlertState::kFiring) {
        active_[key] = t.alert;
      } else {
        active_.erase(key);
      }
      pending_.push_back(t.alert);
      if (pending_.size() > options_.max_queue) {
        pending_.pop_front();
        ++stats_.alerts_dropped;
      }
    }
  }
  wake_.notify_one();
}

AlertmanagerStats AlertmanagerClient::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void AlertmanagerClient::run() {
  std::unique_lock lock(mutex_);
  auto next_resend = Clock::now() + options_.resend_interval;
  while (!stop_) {
    wake_.wait_until(lock, next_resend, [&] { return stop_ || !pending_.empty(); });
    if (stop_) break;
    std::vector<alerts::Alert> batch;
    if (!pending_.empty()) {
      batch.assign(pending_.begin(), pending_.end());
      pending_.clear();
    } else if (Clock::now() >= next_resend) {
      next_resend = Clock::now() + options_.resend_interval;
      for (const auto& [key, alert] : active_) batch.push_back(alert);
    }
    if (batch.empty()) continue;
    lock.unlock();
    post(batch);
    lock.lock();
  }
}

void AlertmanagerClient::post(const std::vector<alerts::Alert>& batch) {
  const std::string body = alertmanager_payload(batch, std::chrono::system_clock::now(),
                                                4 * options_.resend_interval, options_.generator_url);
  auto status = http_post_json(url_, url_.prefix + "/api/v2/alerts", body, options_.timeout);
  std::lock_guard lock(mutex_);
  if (status && status.value() / 100 == 2) {
    ++stats_.posts_ok;
    return;
  }
  ++stats_.posts_failed;
  stats_.last_error = status ? "HTTP status " + std::to_string(status.value()) : status.error();
}

}  // namespace cowwatch::exporter
