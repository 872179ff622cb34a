#include "metrics/http_stop.h"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include <prometheus/exposer.h>

namespace cowwatch::metrics {
namespace {

// Local TCP port of a socket fd, or 0.
int local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

// Shuts down every socket of this process bound to one of `ports`: the listener (its poll()
// returns, civetweb's master thread sees the stop flag) and accepted connections (a worker
// waiting for the next keep-alive request reads EOF).
void shut_sockets(const std::set<int>& ports) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || fd < 0 || fd == dirfd(dir)) continue;
    struct stat st {};
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    if (ports.count(local_port(static_cast<int>(fd)))) shutdown(static_cast<int>(fd), SHUT_RDWR);
  }
  closedir(dir);
}

}  // namespace

void stop_http_server(std::unique_ptr<prometheus::Exposer>& exposer) {
  if (!exposer) return;
  std::set<int> ports;
  for (int port : exposer->GetListeningPorts()) ports.insert(port);
  std::atomic<bool> stopped{false};
  // mg_stop() sets its stop flag first and then waits: keep waking its threads until it returns
  // (a socket shut before the flag is set only makes a thread poll once more).
  std::thread waker([&] {
    while (!stopped.load()) {
      shut_sockets(ports);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  exposer.reset();
  stopped = true;
  waker.join();
}

}  // namespace cowwatch::metrics
