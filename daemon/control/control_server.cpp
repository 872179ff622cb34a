#include "control/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cerrno>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

#include "control/control_dispatch.h"
#include "control/control_peer.h"
#include "control/control_stream.h"
#include "protocol/protocol.h"
#include "protocol/protocol_codec.h"

namespace cowwatch::control {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kStreamBatch = 1024;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

bool fill_address(const std::string& path, sockaddr_un* addr, std::string* error) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) {
    *error = "socket path is empty or longer than " + std::to_string(sizeof(addr->sun_path) - 1) +
             " bytes: " + path;
    return false;
  }
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

// A socket file left by a crashed daemon is removed; a live one (someone accepts) is an error.
bool clear_stale_socket(const std::string& path, const sockaddr_un& addr, std::string* error) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return true;
  if (!S_ISSOCK(st.st_mode)) {
    *error = path + " exists and is not a socket";
    return false;
  }
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe >= 0) {
    bool live = connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    close(probe);
    if (live) {
      *error = "another cowwatchd is already listening on " + path;
      return false;
    }
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    *error = errno_text(("cannot remove stale socket " + path).c_str());
    return false;
  }
  return true;
}

void ensure_parent_directory(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  // One level, like systemd's RuntimeDirectory=; failure shows up at bind().
  mkdir(path.substr(0, slash).c_str(), 0755);
}

struct Client {
  int fd = -1;
  PeerCredentials peer;
  std::string in;
  std::string out;
  Clock::time_point deadline = Clock::time_point::max();
  bool read_closed = false;       // peer finished sending (or we stopped reading)
  bool close_after_flush = false;
  bool dead = false;              // close now
  nlohmann::json stream_id;
  std::unique_ptr<StreamQueue> stream;
};

}  // namespace

struct ControlServer::Impl {
  std::list<Client> clients;
  mutable std::mutex stats_mu;
  ServerStats stats;

  template <typename F>
  void count(F f) {
    std::lock_guard<std::mutex> lock(stats_mu);
    f(stats);
  }
};

namespace {

// Writes as much of c.out as the socket takes now.
void flush(Client& c) {
  while (!c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    c.dead = true;  // EPIPE, ECONNRESET: the peer is gone
    c.out.clear();
    return;
  }
}

std::string encode_stream_item(const nlohmann::json& id, const StreamItem& item) {
  switch (item.kind) {
    case StreamItem::kEvent: return stream_line(id, "event", event_to_json(item.event));
    case StreamItem::kSample: return stream_line(id, "sample", sample_to_json(*item.sample));
    case StreamItem::kExitFlush:
      return stream_line(id, "exit", exit_flush_to_json(item.exit_flush));
  }
  return {};
}

// Queues a final error and closes once it has been written, or after one more read timeout.
void fail_client(Client& c, ErrorCode code, const std::string& message, const nlohmann::json& id,
                 std::chrono::milliseconds grace) {
  c.out += error_line(id, code, message);
  c.close_after_flush = true;
  c.read_closed = true;
  c.in.clear();
  c.deadline = Clock::now() + grace;
}

}  // namespace

ControlServer::ControlServer(ServerOptions options, QueryBackend& backend)
    : options_(std::move(options)), backend_(backend), impl_(new Impl) {}

ControlServer::~ControlServer() {
  stop();
  delete impl_;
}

ServerStats ControlServer::stats() const {
  std::lock_guard<std::mutex> lock(impl_->stats_mu);
  return impl_->stats;
}

bool ControlServer::bind_socket(std::string* error) {
  sockaddr_un addr{};
  if (!fill_address(options_.socket_path, &addr, error)) return false;
  ensure_parent_directory(options_.socket_path);
  if (!clear_stale_socket(options_.socket_path, addr, error)) return false;

  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    *error = errno_text("socket");
    return false;
  }
  auto fail = [&](const std::string& what) {
    *error = errno_text(what.c_str());
    close(listen_fd_);
    listen_fd_ = -1;
    return false;
  };
  if (bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return fail("bind " + options_.socket_path);
  }
  if (chmod(options_.socket_path.c_str(), options_.socket_mode) != 0) {
    return fail("chmod " + options_.socket_path);
  }
  if (options_.group && chown(options_.socket_path.c_str(), static_cast<uid_t>(-1),
                              *options_.group) != 0) {
    return fail("chown " + options_.socket_path);
  }
  if (listen(listen_fd_, 64) != 0) return fail("listen " + options_.socket_path);
  return true;
}

// The manager set the file's owner, group and mode (the kernel checks them at connect()); the
// credential check admits the same group, so both agree on who may talk to the daemon.
bool ControlServer::adopt_socket(std::string* error) {
  sockaddr_un addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(options_.inherited_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    *error = errno_text("getsockname of the inherited socket");
    return false;
  }
  if (len <= offsetof(sockaddr_un, sun_path) || addr.sun_path[0] != '/') {
    *error = "the inherited socket has no file system path";
    return false;
  }
  options_.socket_path.assign(addr.sun_path, strnlen(addr.sun_path, len - offsetof(sockaddr_un, sun_path)));
  struct stat st {};
  if (stat(options_.socket_path.c_str(), &st) != 0) {
    *error = errno_text(("stat " + options_.socket_path).c_str());
    return false;
  }
  options_.socket_mode = st.st_mode & 07777;
  options_.group.reset();
  if (st.st_mode & S_IWGRP) options_.group = st.st_gid;
  // The loop accepts until EAGAIN; managers pass blocking sockets. Children must not inherit it.
  int flags = fcntl(options_.inherited_fd, F_GETFL);
  if (flags < 0 || fcntl(options_.inherited_fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
      fcntl(options_.inherited_fd, F_SETFD, FD_CLOEXEC) != 0) {
    *error = errno_text("O_NONBLOCK/FD_CLOEXEC on the inherited socket");
    return false;
  }
  listen_fd_ = options_.inherited_fd;
  return true;
}

bool ControlServer::start(std::string* error) {
  if (!(options_.inherited_fd >= 0 ? adopt_socket(error) : bind_socket(error))) return false;
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    *error = errno_text("eventfd");
    if (options_.inherited_fd < 0) close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return true;
}

void ControlServer::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  thread_.join();
  for (Client& c : impl_->clients) {
    if (c.stream) {
      backend_.unsubscribe(c.stream.get());
      // Hand over what was already queued (best effort, without blocking) before closing.
      uint64_t lost = 0;
      for (const StreamItem& item : c.stream->take(options_.stream_queue_items, &lost)) {
        if (c.out.size() >= options_.max_output_bytes) break;
        c.out += encode_stream_item(c.stream_id, item);
      }
    }
    flush(c);
    close(c.fd);
  }
  impl_->clients.clear();
  client_count_ = 0;
  close(listen_fd_);
  close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
  if (options_.inherited_fd < 0) unlink(options_.socket_path.c_str());
}


void ControlServer::run() {
  Impl& im = *impl_;
  const uid_t daemon_uid = geteuid();
  std::vector<pollfd> fds;
  std::vector<Client*> polled;

  auto accept_clients = [&] {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or a transient error: poll again
      Client c;
      c.fd = fd;
      c.deadline = Clock::now() + options_.read_timeout;
      std::string why;
      im.count([](ServerStats& s) { ++s.accepted; });
      if (!peer_credentials(fd, &c.peer, &why) ||
          !peer_allowed(c.peer, daemon_uid, options_.group)) {
        im.count([](ServerStats& s) { ++s.rejected_peers; });
        fail_client(c, ErrorCode::kPermissionDenied,
                    "permission denied: uid " + std::to_string(c.peer.uid) +
                        " is not root and not in the control socket's group",
                    nullptr, options_.read_timeout);
      } else if (im.clients.size() >= options_.max_clients) {
        im.count([](ServerStats& s) { ++s.rejected_full; });
        fail_client(c, ErrorCode::kTooManyClients,
                    "too many clients (" + std::to_string(options_.max_clients) + ")", nullptr,
                    options_.read_timeout);
      }
      im.clients.push_back(std::move(c));
    }
  };

  auto handle_line = [&](Client& c, std::string_view line) {
    im.count([](ServerStats& s) { ++s.requests; });
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    RequestParse parsed = parse_request(line);
    if (!parsed.ok) {
      im.count([](ServerStats& s) { ++s.bad_requests; });
      c.out += error_line(parsed.id, parsed.code, parsed.message);
      return;
    }
    if (c.stream) {
      c.out += error_line(parsed.id, ErrorCode::kBadRequest,
                          "this connection is streaming; open another one for requests");
      return;
    }
    DispatchResult r = dispatch(parsed.request, backend_);
    c.out += r.line;
    if (r.stream) {
      c.stream = std::make_unique<StreamQueue>(r.stream->filter, r.stream->samples,
                                               options_.stream_queue_items, wake_fd_);
      c.stream_id = parsed.request.id;
      c.deadline = Clock::time_point::max();
      backend_.subscribe(c.stream.get());
    }
  };

  auto read_client = [&](Client& c) {
    char buf[kReadChunk];
    for (;;) {
      ssize_t n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) {
        // EOF: answer what was asked, then close; a streaming client has gone away.
        c.read_closed = true;
        c.close_after_flush = true;
        if (c.stream || n < 0) c.dead = true;
        break;
      }
      c.in.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = c.in.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(c.in.data() + start, nl - start);
        if (line.size() > options_.max_request_bytes) break;  // handled below
        handle_line(c, line);
        if (!c.stream) c.deadline = Clock::now() + options_.read_timeout;
      }
      c.in.erase(0, start);
      size_t pending = c.in.find('\n');
      if ((pending == std::string::npos ? c.in.size() : pending) > options_.max_request_bytes) {
        im.count([](ServerStats& s) { ++s.oversized; });
        fail_client(c, ErrorCode::kRequestTooLarge,
                    "request longer than " + std::to_string(options_.max_request_bytes) +
                        " bytes",
                    nullptr, options_.read_timeout);
        break;
      }
      if (c.out.size() > options_.max_output_bytes) break;  // let the client read first
    }
  };

  auto pump_stream = [&](Client& c) {
    if (!c.stream || c.dead) return;
    while (c.out.size() < options_.max_output_bytes) {
      uint64_t lost = 0;
      std::vector<StreamItem> items = c.stream->take(kStreamBatch, &lost);
      if (lost > 0) {
        im.count([lost](ServerStats& s) { s.stream_lost += lost; });
        c.out += stream_line(c.stream_id, "lost", lost);
      }
      if (items.empty()) return;
      for (const StreamItem& item : items) {
        c.out += encode_stream_item(c.stream_id, item);
      }
    }
  };

  while (!stopping_) {
    // Streams first, so the poll below waits for the socket to take their output.
    for (Client& c : im.clients) pump_stream(c);
    for (Client& c : im.clients) {
      if (!c.out.empty()) flush(c);
      if (c.close_after_flush && c.out.empty()) c.dead = true;
    }
    const auto now = Clock::now();
    for (auto it = im.clients.begin(); it != im.clients.end();) {
      if (!it->dead && now >= it->deadline) {
        if (!it->close_after_flush) {
          im.count([](ServerStats& s) { ++s.timeouts; });
          fail_client(*it, ErrorCode::kTimeout,
                      it->in.empty() ? "no request within the read timeout"
                                     : "request not completed within the read timeout",
                      nullptr, options_.read_timeout);
          flush(*it);
        }
        it->dead = true;  // do not wait for a slow reader to take the error
      }
      if (it->dead) {
        if (it->stream) backend_.unsubscribe(it->stream.get());
        close(it->fd);
        it = im.clients.erase(it);
      } else {
        ++it;
      }
    }
    client_count_ = im.clients.size();

    fds.clear();
    polled.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    fds.push_back({wake_fd_, POLLIN, 0});
    auto timeout = Clock::time_point::max();
    bool more_stream_data = false;
    for (Client& c : im.clients) {
      short events = 0;
      if (!c.read_closed && c.out.size() <= options_.max_output_bytes) events |= POLLIN;
      if (!c.out.empty()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
      polled.push_back(&c);
      timeout = std::min(timeout, c.deadline);
      if (c.stream && c.out.size() < options_.max_output_bytes && !c.stream->empty()) {
        more_stream_data = true;
      }
    }
    int wait_ms = -1;
    if (more_stream_data) {
      wait_ms = 0;
    } else if (timeout != Clock::time_point::max()) {
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout - Clock::now()).count();
      wait_ms = static_cast<int>(std::clamp<long long>(ms, 0, 60'000));
    }
    int ready = poll(fds.data(), fds.size(), wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;  // poll itself failed: nothing sensible left to do on this thread
    }
    if (fds[1].revents & POLLIN) {
      uint64_t value;
      [[maybe_unused]] ssize_t n = read(wake_fd_, &value, sizeof(value));
    }
    for (size_t i = 0; i < polled.size(); ++i) {
      Client& c = *polled[i];
      short re = fds[i + 2].revents;
      if (re & (POLLIN | POLLHUP | POLLERR)) {
        if (!c.read_closed) {
          read_client(c);
        } else if (re & (POLLHUP | POLLERR)) {
          c.dead = true;
        }
      }
      if ((re & POLLOUT) && !c.dead) flush(c);
    }
    if (fds[0].revents & POLLIN) accept_clients();
  }
}

}  // namespace cowwatch::control
