// Process identity: (tgid, start time), never a bare pid, so pid reuse makes a new process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "cowwatch.h"

namespace cowwatch::model {

struct ProcKey {
  uint32_t tgid = 0;
  uint64_t start_ns = 0;  // group leader's start time, CLOCK_MONOTONIC ns (cw_proc_key.start_ns)

  static ProcKey from(const cw_proc_key& key) { return {key.tgid, key.start_ns}; }
  bool operator==(const ProcKey&) const = default;
};

struct ProcKeyHash {
  size_t operator()(const ProcKey& key) const {
    return std::hash<uint64_t>{}(key.start_ns * 0x9E3779B97F4A7C15ull ^ key.tgid);
  }
};

}  // namespace cowwatch::model
