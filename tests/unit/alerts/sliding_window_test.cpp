#include "alerts/sliding_window.h"

#include <gtest/gtest.h>

namespace cowwatch::alerts {
namespace {

using namespace std::chrono_literals;
using TimePoint = SlidingWindow::TimePoint;

TEST(SlidingWindow, SumsIncrementsInsideTheWindow) {
  SlidingWindow w(60s);  // 1 s buckets
  const TimePoint t0{1000h};
  w.add(t0, 1);
  w.add(t0 + 10s, 2, 20);
  w.add(t0 + 10s + 100ms, 3, 30);  // same bucket
  auto s = w.sum(t0 + 30s);
  EXPECT_EQ(s.value, 6);
  EXPECT_EQ(s.aux, 50);
  EXPECT_EQ(w.sum(t0 + 60s - 1ns).value, 6);
  EXPECT_EQ(w.sum(t0 + 60s).value, 5) << "an increment at t counts while t > now - window";
  EXPECT_EQ(w.sum(t0 + 70s).value, 5) << "the bucket leaves with its latest increment";
  EXPECT_EQ(w.sum(t0 + 70s + 100ms).value, 0);
  EXPECT_TRUE(w.empty());
}

TEST(SlidingWindow, ZeroIncrementsTakeNoMemoryAndBucketsAreBounded) {
  SlidingWindow w(60s);
  const TimePoint t0{1000h};
  for (int i = 0; i < 1000; ++i) w.add(t0 + i * 1ms, 0);
  EXPECT_TRUE(w.empty());
  // 10 increments per second for 10 minutes: never more than ~61 buckets, sum = last minute.
  for (int i = 0; i < 6000; ++i) w.add(t0 + i * 100ms, 1);
  EXPECT_NEAR(w.sum(t0 + 600s).value, 600, 10);
}

}  // namespace
}  // namespace cowwatch::alerts
