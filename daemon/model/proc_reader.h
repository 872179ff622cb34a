// Reads what the model needs from /proc: a process's comm, cgroup, start time and anon RSS, and
// the kernel's own vmstat counters for the self-check. The root is injectable so unit tests use
// a fake tree in a temporary directory; every read returns std::nullopt when the file is missing
// or malformed (the process is gone, or we are replaying a recording).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "model/proc_key.h"

namespace cowwatch::model {

enum class Liveness {
  kSame,       // /proc/<tgid> exists and its start time matches the key
  kGone,       // no /proc/<tgid>
  kDifferent,  // the pid now belongs to another process (pid reuse)
};

class ProcReader {
 public:
  explicit ProcReader(std::string proc_root = "/proc");

  std::optional<std::string> comm(uint32_t tgid) const;       // /proc/<tgid>/comm, no newline
  // The cgroup v2 path from /proc/<tgid>/cgroup ("0::/a/b" -> "a/b"; "0::/" -> "/").
  std::optional<std::string> cgroup(uint32_t tgid) const;
  // Start time from /proc/<tgid>/stat (field 22, clock ticks since boot) in ns.
  std::optional<uint64_t> start_ns(uint32_t tgid) const;
  // RssAnon from /proc/<tgid>/status, in bytes.
  std::optional<uint64_t> rss_anon_bytes(uint32_t tgid) const;
  // Whether the key's process still exists. The kernel's start time (CLOCK_MONOTONIC) and the
  // one /proc shows (CLOCK_BOOTTIME, in clock ticks) differ by the time spent suspended and by
  // rounding; both are allowed for.
  Liveness liveness(const ProcKey& key) const;

  // /proc/vmstat counters used by the self-check: pgreuse, pswpout, nr_foll_pin_acquired,
  // nr_foll_pin_released (those the kernel has).
  std::map<std::string, uint64_t> selfcheck_vmstat() const;

  const std::string& root() const { return root_; }

 private:
  std::string path(uint32_t tgid, const char* file) const;
  std::string root_;
  uint64_t ns_per_tick_;
};

// Converts a /proc/<pid>/cgroup line set to our label form; nullopt without a "0::" line.
std::optional<std::string> parse_cgroup_v2_path(const std::string& proc_cgroup_text);

}  // namespace cowwatch::model
