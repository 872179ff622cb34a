#include <gtest/gtest.h>

#include "model/tallies.h"
#include "model_fixtures.h"

namespace cowwatch::model {
namespace {

using testing::counters;

TEST(Tallies, PartitionsKernelCounters) {
  Tallies t = tallies_from_counters(counters({{CW_C_SWAP_ADD, 10},
                                              {CW_C_SWAP_ADD_PINNED, 3},
                                              {CW_C_FORK, 20},
                                              {CW_C_FORK_MM_HAS_PINNED, 5},
                                              {CW_C_FORK_LONGTERM_PINS, 2},
                                              {int(CW_C_COPY_FIRST) + CW_REASON_SHARED, 7},
                                              {int(CW_C_COPY_FIRST) + CW_REASON_UNSHARE, 4},
                                              {CW_C_UNSHARE_NOOP, 1},
                                              {CW_C_REUSE_EXCLUSIVE, 6},
                                              {CW_C_REUSE_SOLE_REF, 2}}));
  EXPECT_EQ(t[kSwapAddUnpinned], 7u);
  EXPECT_EQ(t[kSwapAddPinned], 3u);
  EXPECT_EQ(t[kForkNoPins], 15u);
  EXPECT_EQ(t[kForkMmHasPinned], 3u);
  EXPECT_EQ(t[kForkLongterm], 2u);
  EXPECT_EQ(forks(t), 20u);
  EXPECT_EQ(copies(t), 11u);
  EXPECT_EQ(copied_bytes(t), 11u * CW_PAGE_SIZE);
  EXPECT_EQ(gup_unshares(t), 5u);
  EXPECT_EQ(decision_count(t, 0), 11u);  // copy
  EXPECT_EQ(decision_count(t, 1), 8u);   // reuse
  EXPECT_EQ(decision_count(t, 2), 1u);   // unshare_noop
}

// KSM unmerge copies are ksm copies and never GUP unshares; their no-ops are unshare no-op decisions.
TEST(Tallies, KsmUnmergesAreKsmCopiesNotGupUnshares) {
  Tallies t = tallies_from_counters(counters({{int(CW_C_COPY_FIRST) + CW_REASON_KSM, 9},
                                              {CW_C_KSM_UNMERGE_COPY, 8},
                                              {CW_C_KSM_UNMERGE_NOOP, 1},
                                              {int(CW_C_COPY_FIRST) + CW_REASON_UNSHARE, 4},
                                              {CW_C_UNSHARE_NOOP, 2}}));
  EXPECT_EQ(t[kKsmUnmergeCopy], 8u);
  EXPECT_EQ(t[kKsmUnmergeNoop], 1u);
  EXPECT_EQ(gup_unshares(t), 6u);
  EXPECT_EQ(copies(t), 13u);             // 9 ksm (8 of them by unmerging) + 4 unshare
  EXPECT_EQ(decision_count(t, 2), 3u);  // unshare_noop: GUP 2 + KSM 1
}

TEST(Baseline, DeltasAreNeverNegativeAndADipIsNotCountedTwice) {
  Baseline baseline;
  Tallies d1 = baseline.advance(counters({{CW_C_SWAP_ADD, 5}, {CW_C_SWAP_ADD_PINNED, 0}}));
  EXPECT_EQ(d1[kSwapAddUnpinned], 5u);
  // The pinned counter was read a moment later than the total: "unpinned" dips to 4.
  Tallies d2 = baseline.advance(counters({{CW_C_SWAP_ADD, 5}, {CW_C_SWAP_ADD_PINNED, 1}}));
  EXPECT_EQ(d2[kSwapAddUnpinned], 0u);
  EXPECT_EQ(d2[kSwapAddPinned], 1u);
  // Recovery to 5 unpinned adds nothing; only growth beyond the highest value seen counts.
  Tallies d3 = baseline.advance(counters({{CW_C_SWAP_ADD, 6}, {CW_C_SWAP_ADD_PINNED, 1}}));
  EXPECT_EQ(d3[kSwapAddUnpinned], 0u);
  Tallies d4 = baseline.advance(counters({{CW_C_SWAP_ADD, 8}, {CW_C_SWAP_ADD_PINNED, 1}}));
  EXPECT_EQ(d4[kSwapAddUnpinned], 2u);
  EXPECT_EQ(baseline.seen()[kSwapAddUnpinned], 7u);
}

}  // namespace
}  // namespace cowwatch::model
