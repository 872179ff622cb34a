// Tallies: the counters of one process, comm, cgroup or the host in the shape the metrics need
// (docs/metrics.md), derived from the kernel's cw_counters. Every tally is monotonic: a
// Baseline turns absolute kernel counters into non-negative deltas, so sums of deltas never go
// back even when two kernel counters are read a moment apart (derived partitions such as
// "swap adds not pinned" = SWAP_ADD - SWAP_ADD_PINNED could otherwise dip by one).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "cowwatch.h"

namespace cowwatch::model {

enum Tally : uint8_t {
  kWpWrite = 0,      // wp faults, kind=write
  kWpUnshare,        // wp faults, kind=unshare
  kWpSharedMapping,  // decision shared_mapping
  kWpIncomplete,     // decision incomplete
  kWpRemote,         // faults taken by another task on this mm
  kWpApprox,         // tracepoint approximation of wp faults
  kCopyFirst,        // kCopyFirst + cw_copy_reason: copies by reason
  kReuseExclusive = kCopyFirst + CW_REASON_COUNT,
  kReuseSoleRef,
  kUnshareNoop,      // unshare fault on an exclusive page (gup_unshares result=noop)
  kSwapAddUnpinned,  // SWAP_ADD - SWAP_ADD_PINNED
  kSwapAddPinned,
  kPinnedSwapSkip,
  kForkNoPins,       // FORK - max(MM_HAS_PINNED, LONGTERM_PINS)
  kForkMmHasPinned,  // MM_HAS_PINNED - LONGTERM_PINS (sticky flag, no long-term pins now)
  kForkLongterm,     // LONGTERM_PINS
  kForkPinnedCopies, // pages copied eagerly at fork because maybe DMA-pinned (FORK_PINNED_COPIES)
  kKsmUnmergeCopy,   // KSM unmerge copies (also in the ksm copies; never GUP unshares)
  kKsmUnmergeNoop,   // KSM unmerge faults that copied nothing
  kTallyCount,
};

using Tallies = std::array<uint64_t, kTallyCount>;

// Index of the copies with `reason` (enum cw_copy_reason).
constexpr size_t copy_tally(int reason) { return size_t(kCopyFirst) + size_t(reason); }

// Kernel counters -> tallies (partitions documented above; exact when the kernel counts
// LONGTERM_PINS as a subset of MM_HAS_PINNED and both as subsets of FORK).
Tallies tallies_from_counters(const cw_counters& counters);

void add_tallies(Tallies& into, const Tallies& delta);
bool is_zero(const Tallies& tallies);

// Derived sums used by metrics, top and queries.
uint64_t copies(const Tallies& t);          // all reasons
uint64_t copied_bytes(const Tallies& t);    // copies x CW_PAGE_SIZE
uint64_t reuses(const Tallies& t);          // exclusive + sole_ref
uint64_t wp_faults(const Tallies& t);       // write + unshare + approx
uint64_t gup_unshares(const Tallies& t);    // unshare copies + unshare no-ops (GUP only, not KSM)
uint64_t swap_adds(const Tallies& t);       // pinned + unpinned
uint64_t forks(const Tallies& t);           // all pin states
uint64_t activity(const Tallies& t);        // faults + copies + reuses + unshares + swap adds

// Label values (docs/metrics.md). Keep in sync with daemon/protocol/protocol_names.cpp, which
// cowwatch_model cannot link.
const char* copy_reason_name(int reason);   // "unshare", "zero_page", ... for cw_copy_reason
inline constexpr std::array<const char*, 5> kDecisionNames = {"copy", "reuse", "unshare_noop",
                                                              "shared_mapping", "incomplete"};
// Index into kDecisionNames; unshare_noop includes KSM unmerge faults that copied nothing.
uint64_t decision_count(const Tallies& t, size_t decision);

// Absolute kernel counters of one entity -> deltas since the previous call. Per tally the
// highest value seen is kept, so a value that dips and recovers is not counted twice.
class Baseline {
 public:
  // Returns the increase of every tally since the last call (zero where it did not grow).
  Tallies advance(const cw_counters& absolute);
  Tallies advance(const Tallies& absolute);
  // Forget what was seen (the kernel's counters restarted from zero).
  void reset() { seen_ = {}; }
  const Tallies& seen() const { return seen_; }
  Baseline() = default;
  explicit Baseline(const Tallies& seen) : seen_(seen) {}

 private:
  Tallies seen_{};
};

}  // namespace cowwatch::model
