#pragma once
// Writes checkpoints on a thread of its own, so that the appender thread only pays for taking the
// snapshot (freezing the state: ~5 ms for a million keys, projections/ledger_state.h) and not for
// serializing, digesting, signing and writing it (~0.7 s), which would stall every verify behind
// it. One checkpoint at a time: a new one is refused while the previous is still being written.
//
// Thread-safe.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "core/status.h"
#include "core/thread_priority.h"
#include "projections/checkpoint.h"

namespace keyledger {

class CheckpointWriter {
 public:
  // `write` runs on the writer's thread, one snapshot at a time, at `priority`.
  explicit CheckpointWriter(std::function<Status(CheckpointSnapshot)> write,
                            BackgroundPriority priority = BackgroundPriority::kNormal);
  ~CheckpointWriter();  // finishes the checkpoint in progress
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // False, and nothing happens, while the previous checkpoint is still being written.
  bool TrySubmit(CheckpointSnapshot snapshot);
  bool busy() const;
  // Waits until nothing is being written.
  void Drain();

 private:
  void Run();

  const std::function<Status(CheckpointSnapshot)> write_;
  const BackgroundPriority priority_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<CheckpointSnapshot> pending_;  // GUARDED_BY(mutex_): submitted or being written
  bool stopping_ = false;                      // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace keyledger
