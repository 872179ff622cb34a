// Who may talk to the control socket: root, the daemon's own user, or a member of the
// configured group (primary or supplementary), from the peer's SO_PEERCRED credentials.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace cowwatch::control {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// SO_PEERCRED of a connected Unix socket.
bool peer_credentials(int fd, PeerCredentials* out, std::string* error);

// Supplementary groups of a live process, from /proc/<pid>/status "Groups:".
bool process_groups(pid_t pid, std::vector<gid_t>* out);

// True when the peer may use the socket.
bool peer_allowed(const PeerCredentials& peer, uid_t daemon_uid, std::optional<gid_t> group);

}  // namespace cowwatch::control
