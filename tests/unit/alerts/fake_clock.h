// A clock the test moves by hand.
#pragma once

#include <chrono>

#include "alerts/clock.h"

namespace cowwatch::alerts::testing {

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override { return steady_; }
  std::chrono::system_clock::time_point wall_now() const override { return wall_; }
  void advance(std::chrono::nanoseconds d) {
    steady_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

 private:
  // Arbitrary fixed origins: 1000 h of uptime; 2026-01-01T00:00:00Z.
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1767225600)};
};

}  // namespace cowwatch::alerts::testing
