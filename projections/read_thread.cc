#include "projections/read_thread.h"

#include <pthread.h>
#include <time.h>

namespace keyledger {

ReadThread::~ReadThread() { Stop(); }

void ReadThread::Run(std::function<void()> read) {
  RunInSteps([read = std::move(read)] {
    read();
    return true;
  });
}

void ReadThread::RunInSteps(Step step) {
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      reads_.push_back(Read{std::move(step), ++reads_given_});
      if (!thread_.joinable()) {
        thread_ = std::thread([this] { Loop(); });
        // The clock is taken here, while the thread cannot have been joined: its handle is valid.
        clockid_t read_thread_clock;
        if (raises() && pthread_getcpuclockid(thread_.native_handle(), &read_thread_clock) == 0) {
          watchdog_ = std::thread([this, read_thread_clock] { Watch(read_thread_clock); });
        }
      }
      woken_.notify_one();
      return;
    }
  }
  while (!step()) {
  }
}

void ReadThread::Stop() {
  std::thread thread, watchdog;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    thread = std::move(thread_);
    watchdog = std::move(watchdog_);
    woken_.notify_one();
  }
  if (thread.joinable()) thread.join();
  if (watchdog.joinable()) watchdog.join();
}

ReadThread::Urgency ReadThread::Urgent() {
  if (priority_ == BackgroundPriority::kNormal ||
      std::this_thread::get_id() != thread_id_.load(std::memory_order_acquire)) {
    return Urgency(nullptr);
  }
  SetThisThreadPriority(BackgroundPriority::kNormal);  // before taking mutex_
  std::lock_guard lock(mutex_);
  urgent_ = true;
  return Urgency(this);
}

void ReadThread::EndUrgency() {
  BackgroundPriority after;
  {
    std::lock_guard lock(mutex_);
    urgent_ = false;
    after = ReadPriorityLocked();
  }
  // After releasing mutex_. Should the watchdog raise the read in between, this lowers it again
  // until the next section ends (raised_ stays set) or the read does.
  SetThisThreadPriority(after);
}

void ReadThread::Loop() {
  std::unique_lock lock(mutex_);
  tid_ = CurrentThreadId();
  thread_id_.store(std::this_thread::get_id(), std::memory_order_release);
  bool at_read_priority = false;  // the thread is at ReadPriorityLocked() outside Urgent sections
  for (;;) {
    woken_.wait(lock, [this] { return stopped_ || !reads_.empty(); });
    if (reads_.empty()) break;  // stopped, nothing left
    Read read = std::move(reads_.front());
    reads_.pop_front();
    const bool same_read = reading_ && read.id == running_read_;
    // The watchdog may have raised this read between its steps (mostly then, when it starves).
    const bool raised = read.raised || (same_read && raised_);
    // Every step starts at its read's priority (the watchdog may have raised the last step, of
    // this read or another): outside mutex_ (see Urgent), and before the watchdog can see the
    // step start, so that it never raises it too early.
    if (priority_ != BackgroundPriority::kNormal && (!at_read_priority || raised != raised_)) {
      lock.unlock();
      SetThisThreadPriority(raised ? BackgroundPriority::kLow : priority_);
      lock.lock();
      at_read_priority = true;
    }
    raised_ = raised || (same_read && raised_);  // raised while the lock was released: keep it
    // The watchdog is told only when another read's step starts (or the first): a read in many
    // steps would otherwise wake it twice a step.
    if (!same_read) {
      reading_ = true;
      running_read_ = read.id;
      read_changed_.notify_all();
    }
    lock.unlock();
    const bool done = read.step();
    lock.lock();
    read.raised = raised_;  // the watchdog may have raised it meanwhile
    if (!done) {
      reads_.push_back(std::move(read));  // its next step after every other read's
      // Lets the other background threads on this core run between steps: one holding a lock
      // the writer waits for (most likely RocksDB's flushes and compactions, at idle priority
      // too) would otherwise wait for a scheduler slice of the read's. bench/run's
      // verify_reviewed p99: 1.30-1.69 ms, against 4-28 ms without (the server's own 0.75-1.5 ms
      // in both).
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    } else if (reads_.empty()) {
      reading_ = false;
      read_changed_.notify_all();
    }
  }
  loop_ended_ = true;
  read_changed_.notify_all();
}

void ReadThread::Watch(clockid_t read_thread_clock) {
  std::unique_lock lock(mutex_);
  const auto cpu_time = [&] {
    timespec t{};  // stays 0 once the thread has ended (EINVAL): nothing runs then anyway
    clock_gettime(read_thread_clock, &t);
    return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
  };
  for (;;) {
    read_changed_.wait(lock, [this] { return reading_ || loop_ended_; });
    if (!reading_) return;  // the read thread has ended
    const uint64_t read = running_read_;
    auto this_read_paused = [&] { return !reading_ || running_read_ != read; };
    // Each raise_after while this read steps: raise it if it got too little of a core (checked
    // again after a raise, which the read thread's step start may have overtaken).
    for (;;) {
      const auto from = std::chrono::steady_clock::now();
      const auto cpu_from = cpu_time();
      if (read_changed_.wait_until(lock, from + raise_after_, this_read_paused)) break;
      const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - from;
      const std::chrono::duration<double> cpu = cpu_time() - cpu_from;
      if (!raised_ && cpu.count() < kStarvedShare * wall.count()) {
        raised_ = true;
        // Inside an Urgent section the thread is at normal priority; EndUrgency lowers it to kLow.
        if (!urgent_) SetThreadPriority(tid_, ReadPriorityLocked());
      }
    }
  }
}

}  // namespace keyledger
