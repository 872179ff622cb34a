// Sends alerts to Alertmanager's v2 API (POST <url>/api/v2/alerts, JSON) from a worker thread:
// submit() only queues (bounded), so the daemon's loop never waits for the network. Firing
// alerts are re-sent every resend_interval with endsAt = now + 4 x resend_interval (Alertmanager
// then resolves them by itself if the daemon dies); resolved alerts are sent once with their
// endsAt. Plain HTTP/1.1 over a POSIX socket (Alertmanager on loopback needs nothing more);
// every POST is bounded by `timeout` (connect, send and receive together; name resolution of a
// non-numeric host is not).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alerts/alert.h"
#include "config/http_url.h"
#include "config/result.h"

namespace cowwatch::exporter {

struct AlertmanagerOptions {
  std::string url;  // http://host[:port][/prefix] (alertmanager.url)
  std::chrono::nanoseconds timeout = std::chrono::seconds(2);
  std::chrono::nanoseconds resend_interval = std::chrono::minutes(1);
  std::string generator_url;  // generatorURL of every alert, e.g. http://host:9479/metrics
  size_t max_queue = 1024;    // alerts waiting to be sent; beyond it the oldest are dropped
};

struct AlertmanagerStats {
  uint64_t posts_ok = 0;
  uint64_t posts_failed = 0;
  uint64_t alerts_dropped = 0;  // queue overflow
  std::string last_error;       // "" until a POST fails
};

// The JSON body for POST /api/v2/alerts: an array of {labels, annotations, startsAt, endsAt,
// generatorURL}. Firing alerts (no ends_at) get endsAt = now + firing_ttl.
std::string alertmanager_payload(const std::vector<alerts::Alert>& alerts,
                                 std::chrono::system_clock::time_point now,
                                 std::chrono::nanoseconds firing_ttl, const std::string& generator_url);

// One HTTP/1.1 POST with Content-Type: application/json, bounded by `timeout`. Returns the
// status code (any code; the caller decides), or an error (connect refused, timed out, ...).
config::Result<int> http_post_json(const config::HttpUrl& url, const std::string& path,
                                   const std::string& body, std::chrono::nanoseconds timeout);

class AlertmanagerClient {
 public:
  // Fails on a malformed URL. Starts the worker thread.
  static config::Result<std::unique_ptr<AlertmanagerClient>> create(AlertmanagerOptions options);
  ~AlertmanagerClient();  // stops the worker (waits at most for one POST's timeout)
  AlertmanagerClient(const AlertmanagerClient&) = delete;
  AlertmanagerClient& operator=(const AlertmanagerClient&) = delete;

  // Queues the transitions and returns at once.
  void submit(const std::vector<alerts::AlertTransition>& transitions);
  AlertmanagerStats stats() const;

 private:
  AlertmanagerClient(AlertmanagerOptions options, config::HttpUrl url);
  void run();
  void post(const std::vector<alerts::Alert>& batch);

  const AlertmanagerOptions options_;
  const config::HttpUrl url_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::deque<alerts::Alert> pending_;                 // to send now
  std::map<std::string, alerts::Alert> active_;       // firing, by rule + subject: re-sent
  AlertmanagerStats stats_;
  std::thread worker_;
};

}  // namespace cowwatch::exporter
