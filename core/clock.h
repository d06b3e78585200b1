#pragma once
// Wall-clock time in milliseconds since the Unix epoch, injectable so tests can move time.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace keyledger {

using TimeMs = int64_t;  // milliseconds since 1970-01-01T00:00:00Z

class Clock {
 public:
  virtual ~Clock() = default;
  // Thread-safe.
  virtual TimeMs Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimeMs Now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeMs start) : now_(start) {}
  TimeMs Now() const override { return now_.load(std::memory_order_acquire); }
  void Set(TimeMs t) { now_.store(t, std::memory_order_release); }
  void Advance(TimeMs delta) { now_.fetch_add(delta, std::memory_order_acq_rel); }

 private:
  std::atomic<TimeMs> now_;
};

inline constexpr TimeMs kSecondMs = 1000;
inline constexpr TimeMs kHourMs = 3600 * kSecondMs;
inline constexpr TimeMs kDayMs = 24 * kHourMs;

}  // namespace keyledger
