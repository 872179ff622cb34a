#include "alertmanager/alertmanager_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "alerts/alert_log.h"

namespace cowwatch::exporter {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// A tiny HTTP server on 127.0.0.1 (ephemeral port). It records each request; it answers 200, or
// never answers at all (to test timeouts).
class TestHttpServer {
 public:
  struct Request {
    std::string head;  // request line and headers
    std::string body;
  };

  explicit TestHttpServer(bool answer) : answer_(answer) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~TestHttpServer() {
    stop_ = true;
    thread_.join();
    for (int fd : held_) ::close(fd);
    ::close(listen_fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Waits until `n` requests arrived (or `timeout` passed); returns them.
  std::vector<Request> wait_for(size_t n, std::chrono::milliseconds timeout = 5000ms) {
    std::unique_lock lock(mutex_);
    arrived_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
    return requests_;
  }
  size_t accepted() const { return accepted_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      ++accepted_;
      if (!answer_) {  // read nothing, say nothing; keep it open until the end
        held_.push_back(fd);
        continue;
      }
      Request request = read_request(fd);
      const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!::write(fd, response.data(), response.size());
      ::close(fd);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(request));
      }
      arrived_.notify_all();
    }
  }

  static Request read_request(int fd) {
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
        const size_t at = data.find("Content-Length: ");
        if (at != std::string::npos && at < header_end) content_length = std::stoul(data.substr(at + 16));
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
    }
    if (header_end == std::string::npos) return {data, ""};
    return {data.substr(0, header_end), data.substr(header_end + 4)};
  }

  const bool answer_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> accepted_{0};
  std::vector<int> held_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Request> requests_;
};

alerts::Alert firing_alert() {
  alerts::Alert a;
  a.rule = "pinned_cow_copy";
  a.kind = alerts::RuleKind::kPinnedCowCopy;
  a.severity = alerts::Severity::kCritical;
  a.scope = alerts::Scope::kProcess;
  a.subject = "pid 123 (redis-server)";
  a.labels = {{"alertname", "pinned_cow_copy"}, {"severity", "critical"}, {"scope", "process"},
              {"subject", "pid 123 (redis-server)"}, {"pid", "123"}, {"cgroup", ""}};
  a.annotations = {{"summary", "COW copy of a maybe-DMA-pinned page in pid 123 (redis-server)"},
                   {"description", "1 copy"}, {"value", "1"}};
  a.starts_at = std::chrono::system_clock::time_point{1767225600s};
  return a;
}

AlertmanagerOptions options_for(const std::string& url) {
  AlertmanagerOptions o;
  o.url = url;
  o.timeout = 2s;
  o.resend_interval = 1h;  // no resend unless a test asks for it
  o.generator_url = "http://127.0.0.1:9479/metrics";
  return o;
}

// Waits (bounded) until `predicate(stats)` holds; returns the last stats.
template <class Predicate>
AlertmanagerStats wait_stats(const AlertmanagerClient& client, Predicate predicate) {
  const auto deadline = SteadyClock::now() + 5s;
  AlertmanagerStats s = client.stats();
  while (!predicate(s) && SteadyClock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
    s = client.stats();
  }
  return s;
}

TEST(AlertmanagerPayload, V2Schema) {
  alerts::Alert resolved = firing_alert();
  resolved.ends_at = resolved.starts_at + 10min;
  const auto now = std::chrono::system_clock::time_point{1767225600s + 1min};
  const auto json = nlohmann::json::parse(
      alertmanager_payload({firing_alert(), resolved}, now, 4min, "http://h:9479/metrics"));
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 2u);
  const auto& a = json[0];
  EXPECT_EQ(a["labels"]["alertname"], "pinned_cow_copy");
  EXPECT_EQ(a["labels"]["severity"], "critical");
  EXPECT_EQ(a["labels"]["subject"], "pid 123 (redis-server)");
  EXPECT_EQ(a["labels"]["pid"], "123");
  EXPECT_FALSE(a["labels"].contains("cgroup")) << "empty label values are left out";
  EXPECT_EQ(a["annotations"]["summary"], "COW copy of a maybe-DMA-pinned page in pid 123 (redis-server)");
  EXPECT_EQ(a["startsAt"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(a["endsAt"], "2026-01-01T00:05:00.000Z") << "firing: now + ttl";
  EXPECT_EQ(a["generatorURL"], "http://h:9479/metrics");
  EXPECT_EQ(json[1]["endsAt"], "2026-01-01T00:10:00.000Z") << "resolved: its own endsAt";
}

TEST(AlertmanagerClient, PostsFiringAlertAsJson) {
  TestHttpServer server(/*answer=*/true);
  auto client = AlertmanagerClient::create(options_for(server.url() + "/am/"));
  ASSERT_TRUE(client.ok()) << client.error();
  client.value()->submit({{alerts::AlertState::kFiring, firing_alert()}});
  const auto requests = server.wait_for(1);
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.head.rfind("POST /am/api/v2/alerts HTTP/1.1\r\n", 0), 0u) << r.head;
  EXPECT_NE(r.head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(r.head.find("Host: 127.0.0.1:"), std::string::npos);
  const auto json = nlohmann::json::parse(r.body);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0]["labels"]["alertname"], "pinned_cow_copy");
  EXPECT_EQ(json[0]["annotations"]["description"], "1 copy");
  EXPECT_EQ(json[0]["startsAt"], "2026-01-01T00:00:00.000Z");
  EXPECT_GT(json[0]["endsAt"].get<std::string>(), alerts::format_rfc3339(std::chrono::system_clock::now()))
      << "a firing alert ends in the future unless re-sent";
  EXPECT_EQ(json[0]["generatorURL"], "http://127.0.0.1:9479/metrics");
  const auto stats = wait_stats(*client.value(), [](const auto& s) { return s.posts_ok == 1; });
  EXPECT_EQ(stats.posts_ok, 1u);
  EXPECT_EQ(stats.posts_failed, 0u);
}

TEST(AlertmanagerClient, ResendsActiveAlertsAndSendsResolveOnce) {
  TestHttpServer server(true);
  AlertmanagerOptions o = options_for(server.url());
  o.resend_interval = 100ms;
  auto client = AlertmanagerClient::create(o);
  ASSERT_TRUE(client.ok());
  client.value()->submit({{alerts::AlertState::kFiring, firing_alert()}});
  auto requests = server.wait_for(3);  // the first send and two resends
  ASSERT_GE(requests.size(), 3u);
  for (const auto& r : requests) {
    const auto json = nlohmann::json::parse(r.body);
    ASSERT_EQ(json.size(), 1u);
    EXPECT_EQ(json[0]["labels"]["alertname"], "pinned_cow_copy");
  }
  alerts::Alert resolved = firing_alert();
  resolved.ends_at = resolved.starts_at + 10min;
  client.value()->submit({{alerts::AlertState::kResolved, resolved}});
  // The resolve arrives; afterwards the resend has nothing left to send.
  bool saw_resolve = false;
  for (size_t n = requests.size() + 1; n < requests.size() + 6 && !saw_resolve; ++n) {
    const auto now = server.wait_for(n);
    ASSERT_GE(now.size(), n);
    saw_resolve = nlohmann::json::parse(now[n - 1].body)[0]["endsAt"] == "2026-01-01T00:10:00.000Z";
  }
  EXPECT_TRUE(saw_resolve);
}

TEST(AlertmanagerClient, TimesOutAgainstAServerThatNeverAnswers) {
  TestHttpServer server(/*answer=*/false);
  AlertmanagerOptions o = options_for(server.url());
  o.timeout = 200ms;
  auto client = AlertmanagerClient::create(o);
  ASSERT_TRUE(client.ok());
  const auto start = SteadyClock::now();
  client.value()->submit({{alerts::AlertState::kFiring, firing_alert()}});
  const auto submit_took = SteadyClock::now() - start;
  EXPECT_LT(submit_took, 20ms) << "submit() must not wait for the network";
  const auto stats = wait_stats(*client.value(), [](const auto& s) { return s.posts_failed >= 1; });
  const auto failed_after = SteadyClock::now() - start;
  EXPECT_EQ(stats.posts_failed, 1u);
  EXPECT_EQ(stats.posts_ok, 0u);
  EXPECT_EQ(stats.last_error, "receive: timed out");
  EXPECT_GE(failed_after, 200ms);
  EXPECT_LT(failed_after, 1s);
  EXPECT_EQ(server.accepted(), 1u);
}

TEST(AlertmanagerClient, HttpPostTimeoutIsBounded) {
  TestHttpServer server(false);
  auto url = config::parse_http_url(server.url());
  ASSERT_TRUE(url.ok());
  const auto start = SteadyClock::now();
  auto result = http_post_json(url.value(), "/api/v2/alerts", "[]", 150ms);
  const auto took = SteadyClock::now() - start;
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), "receive: timed out");
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 600ms);
}

TEST(AlertmanagerClient, ConnectionRefusedIsReported) {
  // Bind a port, then close it: nothing listens there.
  uint16_t port = 0;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  auto url = config::parse_http_url("http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(url.ok());
  auto result = http_post_json(url.value(), "/api/v2/alerts", "[]", 1s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), "connect: Connection refused");
}

TEST(AlertmanagerClient, QueueIsBounded) {
  TestHttpServer server(false);
  AlertmanagerOptions o = options_for(server.url());
  o.max_queue = 2;
  o.timeout = 100ms;
  auto client = AlertmanagerClient::create(o);
  ASSERT_TRUE(client.ok());
  std::vector<alerts::AlertTransition> burst;
  for (int i = 0; i < 5; ++i) {
    alerts::Alert a = firing_alert();
    a.subject = "pid " + std::to_string(i);
    burst.push_back({alerts::AlertState::kFiring, a});
  }
  client.value()->submit(burst);
  EXPECT_EQ(client.value()->stats().alerts_dropped, 3u);
}

TEST(AlertmanagerClient, RejectsBadUrl) {
  auto client = AlertmanagerClient::create(options_for("https://am:9093"));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().rfind("alertmanager url 'https://am:9093': https is not supported", 0), 0u);
}

}  // namespace
}  // namespace cowwatch::exporter
