// Resolves a cgroup v2 id (cw_event.cgroup_id, the kernfs node id) to its path below the
// cgroup2 root by walking the tree and matching each directory's st_ino. Results are cached;
// a miss re-walks the tree at most once per poll (new_poll()), so a flood of unknown ids costs
// one walk, and an id the last walk did not find (a removed cgroup, e.g. an offline memcg that
// reclaim still names) does not trigger another walk by itself. The root is injectable for tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace cowwatch::model {

class CgroupResolver {
 public:
  explicit CgroupResolver(std::string cgroup_root = "/sys/fs/cgroup");

  // "system.slice/redis.service", or "/" for the root; nullopt when not found.
  std::optional<std::string> resolve(uint64_t cgroup_id);
  // Allows one more walk on the next miss.
  void new_poll() { walked_this_poll_ = false; }
  uint64_t walks() const { return walks_; }

 private:
  void walk();
  std::string root_;
  std::unordered_map<uint64_t, std::string> paths_;
  std::unordered_set<uint64_t> not_found_;  // looked up since the last walk and not in the tree
  bool walked_this_poll_ = false;
  uint64_t walks_ = 0;
};

}  // namespace cowwatch::model
