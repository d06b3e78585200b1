#pragma once
// CPU priority of background threads (flushes, compactions, checkpoint writing).
//
// On a core shared with an I/O thread, a background thread at normal priority takes whole
// scheduler slices (a 4 ms tick here) from the requests in flight. At idle priority (Linux
// SCHED_IDLE) it runs when a core has nothing else to do and yields the moment a request thread
// wakes. On a core that requests keep busy, though, an idle-priority thread may not run for
// seconds: work that writers end up waiting for (RocksDB's flushes and compactions) is raised to
// normal priority while it falls behind (events/background_priority.h).

#include <chrono>
#include <optional>

namespace keyledger {

enum class BackgroundPriority {
  kNormal,  // as the request threads
  // A tenth of a request thread's share of a core they both want (SCHED_OTHER at nice kLowNice:
  // weight 110 against 1024), but still a share however busy the core is, unlike kIdle.
  kLow,
  kIdle,    // only when a core is otherwise idle
  // A full share of the CPU, but waking up never preempts the thread that is running (Linux
  // SCHED_BATCH): it runs once that thread waits or at the next scheduler tick. For a thread that
  // wakes often for short steps the requests need not wait for, such as the appender's fsyncs.
  kBatch,
};

inline constexpr int kLowNice = 10;

// Puts the calling thread at `priority`. False where the system refuses (leaving SCHED_IDLE, or a
// lower nice value, needs root, CAP_SYS_NICE or RLIMIT_NICE); the thread may then keep its policy
// or its nice value.
bool SetThisThreadPriority(BackgroundPriority priority);

// Puts the calling thread at `during` for the object's lifetime, then at `after` (there is no call
// that reads a thread's whole priority back atomically, so the caller names what follows).
class ScopedThisThreadPriority {
 public:
  ScopedThisThreadPriority(BackgroundPriority during, BackgroundPriority after) : after_(after) {
    SetThisThreadPriority(during);
  }
  ~ScopedThisThreadPriority() { SetThisThreadPriority(after_); }
  ScopedThisThreadPriority(const ScopedThisThreadPriority&) = delete;
  ScopedThisThreadPriority& operator=(const ScopedThisThreadPriority&) = delete;

 private:
  const BackgroundPriority after_;
};

// The same for thread `tid` of this process (a Linux thread id, see CurrentThreadId), from any
// thread. False when the thread is gone or the system refuses.
bool SetThreadPriority(int tid, BackgroundPriority priority);
int CurrentThreadId();
// CPU time the calling thread has used (CLOCK_THREAD_CPUTIME_ID): time it waited is not in it.
std::chrono::nanoseconds ThisThreadCpuTime();

// Whether a thread of this process put at kIdle may be raised again (to kLow or kNormal): it needs
// root, CAP_SYS_NICE or an RLIMIT_NICE of at least 20. Tried on a short-lived thread of its own.
bool CanLeaveIdlePriority();
// The priority `tid` runs at now (SCHED_OTHER: kLow at a positive nice value, else kNormal), or
// nullopt when gone.
std::optional<BackgroundPriority> ThreadPriority(int tid);

}  // namespace keyledger
