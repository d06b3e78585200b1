#pragma once
// An AppendExecutor for tests: work handed to it runs only when the test runs it, on the test's
// thread; work never run is like work posted to an io_context that has stopped.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "events/appender.h"

namespace keyledger {

class ManualExecutor {
 public:
  AppendExecutor executor() {
    return [this](std::function<void()> work) {
      {
        std::lock_guard lock(mutex_);
        work_.push_back(std::move(work));
      }
      cv_.notify_all();
    };
  }
  // Runs queued work (waiting for more when there is none) until `until()` holds.
  void RunUntil(const std::function<bool()>& until) {
    while (!until()) {
      std::function<void()> work;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !work_.empty(); });
        work = std::move(work_.front());
        work_.erase(work_.begin());
      }
      work();
    }
  }
  // Runs whatever is queued now, and what that queues, without waiting. Returns how much ran.
  // Safe from several threads at once, like io_context::poll.
  size_t RunPending() {
    for (size_t ran = 0;; ++ran) {
      std::function<void()> work;
      {
        std::lock_guard lock(mutex_);
        if (work_.empty()) return ran;
        work = std::move(work_.front());
        work_.erase(work_.begin());
      }
      work();
    }
  }
  // Waits until work is queued or `timeout` has passed.
  void WaitForWork(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return !work_.empty(); });
  }
  size_t pending() const {
    std::lock_guard lock(mutex_);
    return work_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> work_;
};

}  // namespace keyledger
