#include "model/tallies.h"

#include <algorithm>

namespace cowwatch::model {
namespace {

uint64_t saturating_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

}  // namespace

Tallies tallies_from_counters(const cw_counters& counters) {
  const auto& c = counters.c;
  Tallies t{};
  t[kWpWrite] = c[CW_C_WP_WRITE];
  t[kWpUnshare] = c[CW_C_WP_UNSHARE];
  t[kWpSharedMapping] = c[CW_C_WP_SHARED_MAPPING];
  t[kWpIncomplete] = c[CW_C_WP_INCOMPLETE];
  t[kWpRemote] = c[CW_C_WP_REMOTE];
  t[kWpApprox] = c[CW_C_WP_APPROX];
  for (int r = 0; r < CW_REASON_COUNT; ++r) t[copy_tally(r)] = c[CW_C_COPY_FIRST + r];
  t[kReuseExclusive] = c[CW_C_REUSE_EXCLUSIVE];
  t[kReuseSoleRef] = c[CW_C_REUSE_SOLE_REF];
  t[kUnshareNoop] = c[CW_C_UNSHARE_NOOP];
  t[kSwapAddPinned] = c[CW_C_SWAP_ADD_PINNED];
  t[kSwapAddUnpinned] = saturating_sub(c[CW_C_SWAP_ADD], c[CW_C_SWAP_ADD_PINNED]);
  t[kPinnedSwapSkip] = c[CW_C_PINNED_SWAP_SKIP];
  t[kForkLongterm] = c[CW_C_FORK_LONGTERM_PINS];
  t[kForkPinnedCopies] = c[CW_C_FORK_PINNED_COPIES];
  t[kKsmUnmergeCopy] = c[CW_C_KSM_UNMERGE_COPY];
  t[kKsmUnmergeNoop] = c[CW_C_KSM_UNMERGE_NOOP];
  t[kForkMmHasPinned] = saturating_sub(c[CW_C_FORK_MM_HAS_PINNED], c[CW_C_FORK_LONGTERM_PINS]);
  t[kForkNoPins] = saturating_sub(
      c[CW_C_FORK], std::max(c[CW_C_FORK_MM_HAS_PINNED], c[CW_C_FORK_LONGTERM_PINS]));
  return t;
}

void add_tallies(Tallies& into, const Tallies& delta) {
  for (size_t i = 0; i < into.size(); ++i) into[i] += delta[i];
}

bool is_zero(const Tallies& tallies) {
  return std::all_of(tallies.begin(), tallies.end(), [](uint64_t v) { return v == 0; });
}

uint64_t copies(const Tallies& t) {
  uint64_t sum = 0;
  for (int r = 0; r < CW_REASON_COUNT; ++r) sum += t[copy_tally(r)];
  return sum;
}

uint64_t copied_bytes(const Tallies& t) { return copies(t) * CW_PAGE_SIZE; }
uint64_t reuses(const Tallies& t) { return t[kReuseExclusive] + t[kReuseSoleRef]; }
uint64_t wp_faults(const Tallies& t) { return t[kWpWrite] + t[kWpUnshare] + t[kWpApprox]; }
uint64_t gup_unshares(const Tallies& t) {
  return t[copy_tally(CW_REASON_UNSHARE)] + t[kUnshareNoop];
}
uint64_t swap_adds(const Tallies& t) { return t[kSwapAddPinned] + t[kSwapAddUnpinned]; }
uint64_t forks(const Tallies& t) { return t[kForkNoPins] + t[kForkMmHasPinned] + t[kForkLongterm]; }
uint64_t activity(const Tallies& t) {
  return wp_faults(t) + copies(t) + reuses(t) + t[kUnshareNoop] + t[kKsmUnmergeNoop] + swap_adds(t);
}

const char* copy_reason_name(int reason) {
  static constexpr const char* kNames[CW_REASON_COUNT] = {
      "unshare", "zero_page", "file", "ksm", "pinned", "shared", "extra_ref", "large_folio", "other"};
  return reason >= 0 && reason < CW_REASON_COUNT ? kNames[reason] : "other";
}

uint64_t decision_count(const Tallies& t, size_t decision) {
  switch (decision) {
    case 0: return copies(t);
    case 1: return reuses(t);
    case 2: return t[kUnshareNoop] + t[kKsmUnmergeNoop];
    case 3: return t[kWpSharedMapping];
    case 4: return t[kWpIncomplete];
    default: return 0;
  }
}

Tallies Baseline::advance(const cw_counters& absolute) {
  return advance(tallies_from_counters(absolute));
}

Tallies Baseline::advance(const Tallies& absolute) {
  Tallies delta{};
  for (size_t i = 0; i < absolute.size(); ++i) {
    if (absolute[i] > seen_[i]) {
      delta[i] = absolute[i] - seen_[i];
      seen_[i] = absolute[i];
    }
  }
  return delta;
}

}  // namespace cowwatch::model
