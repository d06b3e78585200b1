#pragma once
// Keeps a warning that can repeat thousands of times a second (accept failing with EMFILE, the
// connection limit being hit) from flooding the log: at most one line per interval, reporting
// how many occurrences it stands for.

#include <chrono>
#include <cstdint>
#include <mutex>

namespace keyledger::http {

// Thread-safe.
class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // Counts one occurrence. Returns the number of occurrences to report now, this one included,
  // or 0 when the caller should stay quiet.
  [[nodiscard]] std::uint64_t Tick() {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    ++pending_;
    if (now < next_report_) return 0;
    next_report_ = now + interval_;
    const std::uint64_t count = pending_;
    pending_ = 0;
    return count;
  }

 private:
  const std::chrono::steady_clock::duration interval_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point next_report_;  // guarded by mutex_
  std::uint64_t pending_ = 0;                          // guarded by mutex_
};

}  // namespace keyledger::http
