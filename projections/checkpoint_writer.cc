#include "projections/checkpoint_writer.h"

#include <pthread.h>

#include "core/log.h"
#include "core/memory.h"

namespace keyledger {

CheckpointWriter::CheckpointWriter(std::function<Status(CheckpointSnapshot)> write,
                                   BackgroundPriority priority)
    : write_(std::move(write)), priority_(priority), thread_([this] { Run(); }) {}

CheckpointWriter::~CheckpointWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  thread_.join();
}

bool CheckpointWriter::TrySubmit(CheckpointSnapshot snapshot) {
  std::lock_guard lock(mutex_);
  if (pending_ || stopping_) return false;
  pending_ = std::move(snapshot);
  changed_.notify_all();
  return true;
}

bool CheckpointWriter::busy() const {
  std::lock_guard lock(mutex_);
  return pending_.has_value();
}

void CheckpointWriter::Drain() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return !pending_; });
}

void CheckpointWriter::Run() {
  pthread_setname_np(pthread_self(), "checkpoints");
  if (!SetThisThreadPriority(priority_)) log::Debug("checkpoints: the thread's priority is unchanged");
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [&] { return pending_ || stopping_; });
    if (!pending_) return;  // stopping, nothing left to write
    lock.unlock();
    const uint64_t seq = pending_->seq;
    Status s = write_(std::move(*pending_));  // pending_ is not touched by others while set
    if (!s.ok()) log::Error("writing the checkpoint at seq " + std::to_string(seq) + " failed: " + s.message());
    lock.lock();
    pending_.reset();
    changed_.notify_all();
    lock.unlock();
    // The records the live state copied while the snapshot shared them are freed: hand their
    // pages back now rather than keep them resident until the next checkpoint (core/memory.h).
    ReleaseFreeMemory();
    lock.lock();
  }
}

}  // namespace keyledger
