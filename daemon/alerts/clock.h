// The engine's time source, injectable so tests drive it (a fake clock) instead of sleeping.
#pragma once

#include <chrono>

namespace cowwatch::alerts {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time: windows, for-durations, cooldowns.
  virtual std::chrono::steady_clock::time_point now() const = 0;
  // Wall time: startsAt / endsAt of alerts.
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace cowwatch::alerts
