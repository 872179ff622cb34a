// The Prometheus endpoint: prometheus-cpp's exposer on civetweb, plain HTTP or, with a web config
// (config/web_config.h), TLS (optionally verifying client certificates) and basic auth with
// bcrypt hashes. The web config and the files it names are re-read when they change on disk
// (checked by the daemon at every poll): a valid change restarts the listener in milliseconds,
// an invalid one keeps the running setup and says why.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/web_config.h"

namespace prometheus {
class Collectable;
class Exposer;
}  // namespace prometheus

namespace cowwatch::metrics {

class MetricsServer {
 public:
  // listen: "host:port"; web_config_file: "" for plain HTTP without auth.
  MetricsServer(std::string listen, std::string web_config_file,
                std::vector<std::weak_ptr<prometheus::Collectable>> collectables);
  ~MetricsServer();

  bool start(std::string* error);
  // Re-reads the web config when it or a file it names changed since the last (re)start.
  // Returns false with *error when the new setup is invalid (the running one stays).
  bool reload_if_changed(std::string* error);
  void stop();

  std::string url() const;  // "http[s]://listen/metrics"

 private:
  struct Setup;
  bool start_with(const config::WebConfig& web, std::string* error);
  // What tells a file changed: mtime (ns), inode (a rename over it), size.
  using Stamp = std::array<int64_t, 3>;
  std::map<std::string, Stamp> stamps() const;

  std::string listen_;
  std::string web_config_file_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<Setup> setup_;  // the running setup's TLS material and password checker
  config::WebConfig web_;
  std::map<std::string, Stamp> stamps_;
};

}  // namespace cowwatch::metrics
