// The quantities alert rules count, derived from cw_counters (exact) and anomaly cw_events
// (early). Keep the mapping in sync with the counter and event definitions in bpf/cowwatch.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "cowwatch.h"

namespace cowwatch::alerts {

enum class Signal {
  kPinnedCopies,      // copies with reason pinned (CW_C_COPY_FIRST + CW_REASON_PINNED)
  kForkPinnedCopies,  // pages copied eagerly at fork because maybe pinned (CW_C_FORK_PINNED_COPIES)
  kLongtermPinForks,  // forks of an mm with pinned_vm > 0 (CW_C_FORK_LONGTERM_PINS): what
                      // fork_with_pins counts where the copies at fork cannot be observed
  kGupUnshares,       // GUP unshare faults on the subject's memory: read-only pins that copied
                      // (copies with reason unshare) or found the page exclusive (CW_C_UNSHARE_NOOP).
                      // Not CW_C_WP_UNSHARE: on 6.12+ KSM unmerging takes unshare faults too
  kPinnedSwap,        // CW_C_PINNED_SWAP_SKIP + CW_C_SWAP_ADD_PINNED
  kExtraRefCopies,    // copies with reason extra_ref
  kCopies,            // copies of every reason
  kCount,
};
inline constexpr size_t kSignalCount = static_cast<size_t>(Signal::kCount);
using SignalValues = std::array<uint64_t, kSignalCount>;

// Index in cw_counters.c[] of copies with `reason` (CW_C_COPY_FIRST + reason, without C++20's
// deprecated enum-enum arithmetic).
constexpr int copy_counter(int reason) { return static_cast<int>(CW_C_COPY_FIRST) + reason; }

SignalValues signals_from_counters(const cw_counters& counters);

// What an anomaly record adds to a signal, ahead of the exact counters.
struct SignalHit {
  Signal signal;
  uint64_t amount;
};

// The signal an anomaly record stands for, or nullopt when it is not one the rules count
// (ordinary sampled events are ignored: counters already count them exactly). A fork record
// counts the pinned pages that fork copied (address); the parent's pins alone count as a
// long-term-pinned fork (kLongtermPinForks), which fork_with_pins uses only where the copies
// cannot be observed.
std::optional<SignalHit> signal_from_event(const cw_event& event);

}  // namespace cowwatch::alerts
