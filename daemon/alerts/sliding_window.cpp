#include "alerts/sliding_window.h"

#include <algorithm>

namespace cowwatch::alerts {

SlidingWindow::SlidingWindow(std::chrono::nanoseconds window)
    : window_(window), width_(std::max<std::chrono::nanoseconds>(window / kBuckets, std::chrono::nanoseconds(1))) {}

int64_t SlidingWindow::index_of(TimePoint t) const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() /
         width_.count();
}

void SlidingWindow::add(TimePoint t, double value, double aux) {
  if (value == 0 && aux == 0) return;
  const int64_t index = index_of(t);
  if (!buckets_.empty() && buckets_.back().index >= index) {
    buckets_.back().last = t;
    buckets_.back().value += value;
    buckets_.back().aux += aux;
    return;
  }
  buckets_.push_back({index, t, value, aux});
}

SlidingWindow::Sum SlidingWindow::sum(TimePoint now) {
  const TimePoint start = now - window_;
  auto live = std::find_if(buckets_.begin(), buckets_.end(),
                           [&](const Bucket& b) { return b.last > start; });
  buckets_.erase(buckets_.begin(), live);
  Sum total;
  for (const Bucket& b : buckets_) {
    total.value += b.value;
    total.aux += b.aux;
  }
  return total;
}

}  // namespace cowwatch::alerts
