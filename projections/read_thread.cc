#include "projections/read_thread.h"

namespace keyledger {

ReadThread::~ReadThread() { Stop(); }

void ReadThread::Run(std::function<void()> read) {
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      reads_.push_back(std::move(read));
      if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
      woken_.notify_one();
      return;
    }
  }
  read();
}

void ReadThread::Stop() {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    thread = std::move(thread_);
    woken_.notify_one();
  }
  if (thread.joinable()) thread.join();
}

void ReadThread::Loop() {
  if (priority_ != BackgroundPriority::kNormal) SetThisThreadPriority(priority_);
  std::unique_lock lock(mutex_);
  for (;;) {
    woken_.wait(lock, [this] { return stopped_ || !reads_.empty(); });
    if (reads_.empty()) return;  // stopped, nothing left
    std::function<void()> read = std::move(reads_.front());
    reads_.pop_front();
    lock.unlock();
    read();
    lock.lock();
  }
}

}  // namespace keyledger
