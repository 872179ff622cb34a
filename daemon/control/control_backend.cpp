#include "control/control_backend.h"

#include <array>
#include <utility>

namespace cowwatch::control {
namespace {

constexpr std::array<std::pair<TopSort, const char*>, 5> kSorts{{
    {TopSort::kCopies, "copies"},
    {TopSort::kCopiedBytes, "copied_bytes"},
    {TopSort::kUnshares, "unshares"},
    {TopSort::kSwapAdds, "swap_adds"},
    {TopSort::kFaults, "faults"},
}};

constexpr std::array<std::pair<TopGroup, const char*>, 3> kGroups{{
    {TopGroup::kProcess, "process"},
    {TopGroup::kCgroup, "cgroup"},
    {TopGroup::kComm, "comm"},
}};

}  // namespace

const char* top_sort_name(TopSort s) {
  for (const auto& [v, name] : kSorts) {
    if (v == s) return name;
  }
  return "copies";
}

const char* top_group_name(TopGroup g) {
  for (const auto& [v, name] : kGroups) {
    if (v == g) return name;
  }
  return "process";
}

const char* query_scope_name(QueryScope s) {
  switch (s) {
    case QueryScope::kPid: return "pid";
    case QueryScope::kComm: return "comm";
    case QueryScope::kCgroup: return "cgroup";
  }
  return "pid";
}

bool parse_top_sort(const std::string& name, TopSort* out) {
  for (const auto& [v, n] : kSorts) {
    if (name == n) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool parse_top_group(const std::string& name, TopGroup* out) {
  for (const auto& [v, n] : kGroups) {
    if (name == n) {
      *out = v;
      return true;
    }
  }
  return false;
}

}  // namespace cowwatch::control
