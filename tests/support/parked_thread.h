#pragma once
// A live thread for tests that act on a thread from another: it runs `first` on itself, publishes
// its Linux thread id, then waits until the object is destroyed (which joins it).

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/thread_priority.h"

namespace keyledger::testing {

class ParkedThread {
 public:
  explicit ParkedThread(std::function<void()> first = {}) {
    thread_ = std::thread([this, first = std::move(first)] {
      if (first) first();
      std::unique_lock lock(mutex_);
      tid_ = CurrentThreadId();
      changed_.notify_all();
      changed_.wait(lock, [&] { return done_; });
    });
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return tid_ != 0; });
  }
  ~ParkedThread() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  ParkedThread(const ParkedThread&) = delete;
  ParkedThread& operator=(const ParkedThread&) = delete;

  int tid() const { return tid_; }  // set before the constructor returns, never changed

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int tid_ = 0;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace keyledger::testing
