#include "model/cgroup_resolver.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cowwatch::model {
namespace {
constexpr size_t kMaxNotFound = 4096;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string without_trailing_slash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}
}  // namespace

CgroupHierarchy choose_cgroup_hierarchy(const std::string& configured_root, const std::string& mounts_text) {
  const std::string root = without_trailing_slash(configured_root);
  std::istringstream lines(mounts_text);
  std::string line, root_type, below_root, anywhere;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string device, mount_point, type;
    if (!(fields >> device >> mount_point >> type)) continue;
    mount_point = without_trailing_slash(mount_point);
    if (mount_point == root) root_type = type;  // the last mount on a path is the visible one
    if (type != "cgroup2") continue;
    if (below_root.empty() && mount_point.rfind(root + "/", 0) == 0) below_root = mount_point;
    if (anywhere.empty()) anywhere = mount_point;
  }
  if (root_type.empty() || root_type == "cgroup2") return {root, false};
  if (!below_root.empty()) return {below_root, false};
  if (!anywhere.empty()) return {anywhere, false};
  return {root, true};
}

CgroupResolver::CgroupResolver(std::string cgroup_root, const std::string& mounts_path)
    : hierarchy_(choose_cgroup_hierarchy(cgroup_root, read_file(mounts_path))) {}

std::optional<std::string> CgroupResolver::resolve(uint64_t cgroup_id) {
  if (hierarchy_.v1_only) return std::string(kCgroupV1Name);
  auto it = paths_.find(cgroup_id);
  if (it != paths_.end()) return it->second;
  if (walks_this_poll_ >= kWalksPerPoll || not_found_.count(cgroup_id)) return std::nullopt;
  walk();
  it = paths_.find(cgroup_id);
  if (it != paths_.end()) return it->second;
  if (not_found_.size() < kMaxNotFound) not_found_.insert(cgroup_id);
  return std::nullopt;
}

void CgroupResolver::walk() {
  namespace fs = std::filesystem;
  ++walks_this_poll_;
  ++walks_;
  not_found_.clear();
  std::unordered_map<uint64_t, std::string> live;
  struct stat st {};
  const std::string& root_path = hierarchy_.root;
  if (::stat(root_path.c_str(), &st) == 0) {
    live[st.st_ino] = std::string(1, '/');
    std::error_code ec;
    const fs::path root(root_path);
    for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      if (!it->is_directory(ec) || it->is_symlink(ec)) {
        if (it->is_symlink(ec)) it.disable_recursion_pending();
        continue;
      }
      if (::stat(it->path().c_str(), &st) != 0) continue;
      live[st.st_ino] = it->path().lexically_relative(root).string();
    }
  }
  // Removed since the last walk: remembered under their last path, the oldest forgotten first.
  for (const auto& [id, path] : paths_)
    if (!live.count(id) && removed_set_.insert(id).second) removed_.push_back(id);
  for (const auto& [id, path] : live) paths_[id] = path;
  while (removed_.size() > kMaxRemembered) {
    paths_.erase(removed_.front());
    removed_set_.erase(removed_.front());
    removed_.pop_front();
  }
}

}  // namespace cowwatch::model
