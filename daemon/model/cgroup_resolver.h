// Resolves a cgroup v2 id (cw_event.cgroup_id, the kernfs node id) to its path below the
// cgroup2 root by walking the tree and matching each directory's st_ino. Results are cached;
// a miss re-walks the tree at most kWalksPerPoll times per poll (new_poll()), so a flood of unknown
// ids costs a few walks, while several cgroups created within one poll (each named by a move
// record while it exists) are all resolved; an id the last walk did not find (a removed cgroup, e.g. an offline memcg that
// reclaim still names) does not trigger another walk by itself. A path once resolved is kept
// after its cgroup is removed (ids are never reused), up to kMaxRemembered removed cgroups.
//
// Which tree: the ids are always of the v2 (default) hierarchy. The configured root is used when
// it is a cgroup2 mount, or no mount point at all (a test tree); when it is a mount of another
// type (a hybrid host: a tmpfs holding v1 hierarchies and a cgroup2 "unified" directory), the
// cgroup2 mount below it (else any cgroup2 mount). With no cgroup2 mount at all (v1 only) every
// id resolves to "_v1". The root and the mounts table are injectable for tests.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace cowwatch::model {

inline constexpr const char* kCgroupV1Name = "_v1";

struct CgroupHierarchy {
  std::string root;      // directory walked for ids
  bool v1_only = false;  // no cgroup2 mount: ids name nothing user space can see
};

// The hierarchy to resolve ids in, from the configured root and a mounts table
// (/proc/self/mounts format); an empty table keeps the configured root.
CgroupHierarchy choose_cgroup_hierarchy(const std::string& configured_root, const std::string& mounts_text);

class CgroupResolver {
 public:
  static constexpr size_t kMaxRemembered = 4096;
  static constexpr uint32_t kWalksPerPoll = 8;

  explicit CgroupResolver(std::string cgroup_root = "/sys/fs/cgroup",
                          const std::string& mounts_path = "/proc/self/mounts");

  // "system.slice/redis.service", or "/" for the root; nullopt when not found.
  std::optional<std::string> resolve(uint64_t cgroup_id);
  // Allows kWalksPerPoll more walks.
  void new_poll() { walks_this_poll_ = 0; }
  uint64_t walks() const { return walks_; }
  const CgroupHierarchy& hierarchy() const { return hierarchy_; }

 private:
  void walk();
  CgroupHierarchy hierarchy_;
  std::unordered_map<uint64_t, std::string> paths_;  // live, and removed ones remembered
  std::unordered_set<uint64_t> not_found_;  // looked up since the last walk and not in the tree
  std::deque<uint64_t> removed_;            // ids the last walks no longer found, oldest first
  std::unordered_set<uint64_t> removed_set_;  // the same, for lookups
  uint32_t walks_this_poll_ = 0;
  uint64_t walks_ = 0;
};

}  // namespace cowwatch::model
