// PathWorker: one message type each way over a SOCK_SEQPACKET pair, so every read is one message.
#include "paths/path_worker.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace cowwatch::bench {
namespace {

enum class Tag : char { kRun = 'r', kQuit = 'q', kBegin = 'b', kEnd = 'e', kAck = 'k', kResult = 'R' };

struct Message {
  Tag tag;
  bool with_span = false;  // kRun
  bool ok = false;         // kResult
  uint32_t index = 0;      // kRun
  uint64_t ops = 0;
  double ns_per_op = 0;
  char error[240] = {};
  char note[240] = {};
};

void copy_text(char (&to)[240], const std::string& from) {
  size_t n = std::min(from.size(), sizeof(to) - 1);
  std::memcpy(to, from.data(), n);
  to[n] = 0;
}

bool send_message(int fd, const Message& m) {
  ssize_t n;
  do n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == ssize_t(sizeof(m));
}

bool receive_message(int fd, Message* m) {
  ssize_t n;
  do n = recv(fd, m, sizeof(*m), 0);
  while (n < 0 && errno == EINTR);
  return n == ssize_t(sizeof(*m));
}

// In the worker: the caller's span, one round trip at each end of the timed part.
class RemoteSpan final : public TimedSpan {
 public:
  explicit RemoteSpan(int fd) : fd_(fd) {}
  void begin() override { round_trip(Tag::kBegin); }
  void end() override { round_trip(Tag::kEnd); }

 private:
  void round_trip(Tag tag) {
    Message m{tag};
    if (!send_message(fd_, m) || !receive_message(fd_, &m)) _exit(1);  // the caller is gone
  }
  int fd_;
};

[[noreturn]] void serve(int fd, const std::vector<std::unique_ptr<Path>>& paths) {
  Message m{};
  while (receive_message(fd, &m) && m.tag == Tag::kRun && m.index < paths.size()) {
    Path& path = *paths[m.index];
    RemoteSpan remote(fd);
    TimedSpan none;
    PathRun r = path.run(m.with_span ? static_cast<TimedSpan&>(remote) : none);
    Message out{Tag::kResult};
    out.ok = r.ok;
    out.ops = r.ops;
    out.ns_per_op = r.ns_per_op;
    copy_text(out.error, r.error);
    copy_text(out.note, path.note());
    if (!send_message(fd, out)) break;
  }
  _exit(0);  // no destructors: the scratch files belong to the caller
}

}  // namespace

PathWorker::PathWorker(const std::vector<std::unique_ptr<Path>>& paths) : notes_(paths.size()) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    error_ = std::string("socketpair: ") + strerror(errno);
    return;
  }
  pid_ = fork();
  if (pid_ == 0) {
    close(fds[0]);
    serve(fds[1], paths);
  }
  close(fds[1]);
  if (pid_ < 0) {
    error_ = std::string("fork: ") + strerror(errno);
    close(fds[0]);
    return;
  }
  fd_ = fds[0];
}

PathWorker::~PathWorker() {
  if (fd_ >= 0) {
    send_message(fd_, Message{Tag::kQuit});
    close(fd_);
  }
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

bool PathWorker::ok(std::string* error) const {
  if (error) *error = error_;
  return fd_ >= 0;
}

PathRun PathWorker::run(size_t index, TimedSpan* span) {
  PathRun r;
  Message m{Tag::kRun};
  m.index = uint32_t(index);
  m.with_span = span != nullptr;
  if (fd_ < 0 || !send_message(fd_, m)) {
    r.error = "the path worker is gone";
    return r;
  }
  while (receive_message(fd_, &m)) {
    if (m.tag == Tag::kBegin || m.tag == Tag::kEnd) {
      if (span) (m.tag == Tag::kBegin ? span->begin() : span->end());
      if (!send_message(fd_, Message{Tag::kAck})) break;
      continue;
    }
    if (m.tag != Tag::kResult) break;
    r.ok = m.ok;
    r.ops = m.ops;
    r.ns_per_op = m.ns_per_op;
    r.error = m.error;
    notes_[index] = m.note;
    return r;
  }
  r.error = "the path worker stopped answering";
  return r;
}

}  // namespace cowwatch::bench
