// The daemon's control socket: a Unix stream socket speaking the JSON-lines protocol
// (protocol.h, docs/protocol.md) on its own thread with poll(2). Each connection is checked with
// SO_PEERCRED, requests are bounded in size, a connection that does not complete a request within
// the read timeout is closed (slow-loris), bad requests get an error without affecting other
// clients, and trace/record connections stream events from the backend until they disconnect.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "control/control_backend.h"

namespace cowwatch::control {

inline constexpr const char* kDefaultSocketPath = "/run/cowwatch/cowwatch.sock";

struct ServerOptions {
  std::string socket_path = kDefaultSocketPath;
  std::optional<gid_t> group;          // may connect besides root/the daemon's user; socket's group
  mode_t socket_mode = 0660;
  // A listening socket handed over by the service manager (socket activation). The server adopts
  // it instead of binding socket_path: the file belongs to the manager (not created, chowned or
  // removed here), and socket_path and group are taken from it (the group when group-writable).
  int inherited_fd = -1;
  size_t max_clients = 32;             // connections beyond this get too_many_clients and close
  size_t max_request_bytes = 64 * 1024;  // a longer line gets request_too_large and close
  std::chrono::milliseconds read_timeout{5000};  // to complete a request (or idle between them)
  size_t stream_queue_items = 65536;   // per streaming client; beyond: dropped, reported as "lost"
  size_t max_output_bytes = 4u << 20;  // per client; a stream stops draining its queue above this
};

struct ServerStats {
  uint64_t accepted = 0;
  uint64_t rejected_peers = 0;     // failed the credential check
  uint64_t rejected_full = 0;      // too many clients
  uint64_t requests = 0;
  uint64_t bad_requests = 0;       // any error response from parsing
  uint64_t timeouts = 0;
  uint64_t oversized = 0;
  uint64_t stream_lost = 0;        // events dropped for slow streaming clients
};

class ControlServer {
 public:
  ControlServer(ServerOptions options, QueryBackend& backend);
  ~ControlServer();  // stop()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds the socket (replacing a stale one, refusing if another server answers on it), or adopts
  // the inherited one, and starts the thread. False with *error on failure.
  bool start(std::string* error);
  // Stops the thread, ends every subscription, closes all connections, removes the socket file
  // (unless inherited).
  void stop();

  const ServerOptions& options() const { return options_; }
  ServerStats stats() const;
  size_t client_count() const { return client_count_.load(); }

 private:
  struct Impl;
  void run();
  bool bind_socket(std::string* error);
  bool adopt_socket(std::string* error);

  ServerOptions options_;
  QueryBackend& backend_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;    // eventfd: stream data queued, or stop requested
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> client_count_{0};
  std::thread thread_;
  Impl* impl_ = nullptr;
};

}  // namespace cowwatch::control
