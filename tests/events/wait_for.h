#pragma once
// Waits (at most 30 s) for a condition another thread makes true, such as a background thread's
// work showing up on disk. Polls every millisecond; no figure of time is asserted.

#include <chrono>
#include <functional>
#include <thread>

namespace keyledger {

inline bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace keyledger
