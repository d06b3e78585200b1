#pragma once
// Runs long reads on a thread of their own, one at a time in the order given, so that the thread
// handing them over never waits for one: in a server that thread is an I/O thread that also
// answers verifies. A point-in-time query is such a read: it rebuilds the state at an instant
// from the newest checkpoint at or before it (only the newest few are kept) and the log after
// it, up to a whole replay (~5 s at 10 M events, bench/README.md).
//
// Thread-safe.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core/thread_priority.h"

namespace keyledger {

class ReadThread {
 public:
  // The thread runs at `priority`: below normal, it takes a core that an I/O thread shares with it
  // only in the gaps that thread leaves, or for a small share when there are none.
  explicit ReadThread(BackgroundPriority priority = BackgroundPriority::kNormal)
      : priority_(priority) {}
  ~ReadThread();  // Stop()s
  ReadThread(const ReadThread&) = delete;
  ReadThread& operator=(const ReadThread&) = delete;

  // Runs `read` on the thread (started by the first read) after every read handed over before it,
  // and returns without waiting. After Stop(), runs it at once on the caller's thread instead.
  void Run(std::function<void()> read);
  // Runs the reads still waiting, then ends the thread. Idempotent.
  void Stop();

 private:
  void Loop();

  const BackgroundPriority priority_;
  std::mutex mutex_;
  std::condition_variable woken_;
  std::deque<std::function<void()>> reads_;  // GUARDED_BY(mutex_)
  bool stopped_ = false;                     // GUARDED_BY(mutex_)
  std::thread thread_;                       // started under mutex_
};

}  // namespace keyledger
