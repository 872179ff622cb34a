#include "control/control_peer.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cowwatch::control {

bool peer_credentials(int fd, PeerCredentials* out, std::string* error) {
  struct ucred cred {};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    *error = std::string("SO_PEERCRED: ") + std::strerror(errno);
    return false;
  }
  out->pid = cred.pid;
  out->uid = cred.uid;
  out->gid = cred.gid;
  return true;
}

bool process_groups(pid_t pid, std::vector<gid_t>* out) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Groups:", 0) != 0) continue;
    std::istringstream fields(line.substr(7));
    unsigned long gid = 0;
    while (fields >> gid) out->push_back(static_cast<gid_t>(gid));
    return true;
  }
  return false;
}

bool peer_allowed(const PeerCredentials& peer, uid_t daemon_uid, std::optional<gid_t> group) {
  if (peer.uid == 0 || peer.uid == daemon_uid) return true;
  if (!group) return false;
  if (peer.gid == *group) return true;
  std::vector<gid_t> groups;
  if (peer.pid > 0 && process_groups(peer.pid, &groups)) {
    return std::find(groups.begin(), groups.end(), *group) != groups.end();
  }
  return false;
}

}  // namespace cowwatch::control
