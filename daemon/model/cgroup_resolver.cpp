#include "model/cgroup_resolver.h"

#include <sys/stat.h>

#include <filesystem>

namespace cowwatch::model {
namespace {
constexpr size_t kMaxNotFound = 4096;
}  // namespace

CgroupResolver::CgroupResolver(std::string cgroup_root) : root_(std::move(cgroup_root)) {}

std::optional<std::string> CgroupResolver::resolve(uint64_t cgroup_id) {
  auto it = paths_.find(cgroup_id);
  if (it != paths_.end()) return it->second;
  if (walked_this_poll_ || not_found_.count(cgroup_id)) return std::nullopt;
  walk();
  it = paths_.find(cgroup_id);
  if (it != paths_.end()) return it->second;
  if (not_found_.size() < kMaxNotFound) not_found_.insert(cgroup_id);
  return std::nullopt;
}

void CgroupResolver::walk() {
  namespace fs = std::filesystem;
  walked_this_poll_ = true;
  ++walks_;
  paths_.clear();
  not_found_.clear();
  struct stat st {};
  if (::stat(root_.c_str(), &st) != 0) return;
  paths_[st.st_ino] = std::string(1, '/');
  std::error_code ec;
  const fs::path root(root_);
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec)) {
      if (it->is_symlink(ec)) it.disable_recursion_pending();
      continue;
    }
    if (::stat(it->path().c_str(), &st) != 0) continue;
    paths_[st.st_ino] = it->path().lexically_relative(root).string();
  }
}

}  // namespace cowwatch::model
