// A sum over the last `window` of time, kept in at most ~60 buckets of window/60 each, so memory
// per (rule, subject) is bounded whatever the tick rate. Only ticks with a non-zero increment
// take a bucket. An increment at time t counts while t > now - window; increments that share a
// bucket leave the window together with the bucket's latest one (so up to window/60 late).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace cowwatch::alerts {

class SlidingWindow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  static constexpr int kBuckets = 60;

  explicit SlidingWindow(std::chrono::nanoseconds window);

  // Adds `value` (and a second quantity `aux`, e.g. a denominator) at time `t` (non-decreasing).
  void add(TimePoint t, double value, double aux = 0);

  struct Sum {
    double value = 0;
    double aux = 0;
  };
  // The sums of increments inside the window ending at `now`; drops older buckets.
  Sum sum(TimePoint now);
  bool empty() const { return buckets_.empty(); }

 private:
  struct Bucket {
    int64_t index;   // time since epoch / width
    TimePoint last;  // latest increment in the bucket
    double value;
    double aux;
  };
  int64_t index_of(TimePoint t) const;

  std::chrono::nanoseconds window_;
  std::chrono::nanoseconds width_;
  std::vector<Bucket> buckets_;  // oldest first
};

}  // namespace cowwatch::alerts
