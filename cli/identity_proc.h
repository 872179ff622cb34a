// A /proc look-alike in a temporary directory holding the process identities of a recording
// (comm, cgroup, start time), so that the Aggregator, which learns who a process is from /proc,
// names the processes of a replay as the recording host saw them. Removed on destruction.
#pragma once

#include <string>

#include "recording/recording.h"

namespace cowwatch::cli {

class IdentityProc {
 public:
  IdentityProc();
  ~IdentityProc();
  IdentityProc(const IdentityProc&) = delete;
  IdentityProc& operator=(const IdentityProc&) = delete;

  bool ok() const { return !root_.empty(); }
  const std::string& root() const { return root_; }
  // Writes <root>/<tgid>/{comm,cgroup,stat}; the first identity of a tgid wins.
  bool add(const control::ProcessIdentity& identity);
  size_t size() const { return added_; }

 private:
  std::string root_;
  size_t added_ = 0;
};

}  // namespace cowwatch::cli
