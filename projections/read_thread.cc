#include "projections/read_thread.h"

namespace keyledger {

ReadThread::~ReadThread() { Stop(); }

void ReadThread::Run(std::function<void()> read) {
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      reads_.push_back(std::move(read));
      if (!thread_.joinable()) {
        thread_ = std::thread([this] { Loop(); });
        if (raises()) watchdog_ = std::thread([this] { Watch(); });
      }
      woken_.notify_one();
      return;
    }
  }
  read();
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
  for (;;) {
    woken_.wait(lock, [this] { return stopped_ || !reads_.empty(); });
    if (reads_.empty()) break;  // stopped, nothing left
    std::function<void()> read = std::move(reads_.front());
    reads_.pop_front();
    // Every read starts at the thread's priority (the watchdog may have raised the last one):
    // outside mutex_ (see Urgent), and before the watchdog can see the read start, so that it
    // never raises it too early.
    lock.unlock();
    if (priority_ != BackgroundPriority::kNormal) SetThisThreadPriority(priority_);
    lock.lock();
    raised_ = false;
    reading_ = true;
    ++reads_started_;
    read_started_at_ = std::chrono::steady_clock::now();
    read_changed_.notify_all();
    lock.unlock();
    read();
    lock.lock();
    reading_ = false;
    read_changed_.notify_all();
  }
  loop_ended_ = true;
  read_changed_.notify_all();
}

void ReadThread::Watch() {
  std::unique_lock lock(mutex_);
  for (;;) {
    read_changed_.wait(lock, [this] { return reading_ || loop_ended_; });
    if (!reading_) return;  // the read thread has ended
    const uint64_t read = reads_started_;
    auto this_read_ended = [&] { return !reading_ || reads_started_ != read; };
    if (!read_changed_.wait_until(lock, read_started_at_ + raise_after_, this_read_ended)) {
      raised_ = true;
      // Inside an Urgent section the thread is at normal priority; EndUrgency lowers it to kLow.
      if (!urgent_) SetThreadPriority(tid_, ReadPriorityLocked());
    }
    read_changed_.wait(lock, this_read_ended);  // raised once is enough
  }
}

}  // namespace keyledger
