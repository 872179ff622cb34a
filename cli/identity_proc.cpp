#include "cli/identity_proc.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cowwatch::cli {

IdentityProc::IdentityProc() {
  std::string tmpl = std::filesystem::temp_directory_path().string() + "/cowwatch-replay-XXXXXX";
  if (mkdtemp(tmpl.data()) != nullptr) root_ = tmpl;
}

IdentityProc::~IdentityProc() {
  if (root_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

bool IdentityProc::add(const control::ProcessIdentity& id) {
  if (root_.empty()) return false;
  std::string dir = root_ + "/" + std::to_string(id.key.tgid);
  if (mkdir(dir.c_str(), 0700) != 0) return false;  // exists: first identity wins
  long hz = sysconf(_SC_CLK_TCK);
  uint64_t ns_per_tick = hz > 0 ? 1000000000ull / static_cast<uint64_t>(hz) : 10000000ull;
  std::ofstream(dir + "/comm") << id.comm << "\n";
  if (!id.cgroup.empty()) {
    std::ofstream(dir + "/cgroup") << "0::" << (id.cgroup == "/" ? "/" : "/" + id.cgroup) << "\n";
  }
  // Field 22 (starttime, clock ticks) is the 20th token after the comm's closing parenthesis.
  std::ofstream stat(dir + "/stat");
  stat << id.key.tgid << " (" << id.comm << ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
       << (id.key.start_ns + ns_per_tick / 2) / ns_per_tick << " 0 0\n";
  ++added_;
  return static_cast<bool>(stat);
}

}  // namespace cowwatch::cli
