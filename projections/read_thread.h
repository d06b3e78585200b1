#pragma once
// Runs long reads on a thread of their own, so that the thread handing them over never waits for
// one: in a server that thread is an I/O thread that also answers verifies. A point-in-time query
// is such a read: it rebuilds the state at an instant from the newest checkpoint at or before it
// (only the newest few are kept) and the log after it, up to a whole replay (~5 s at 10 M events,
// bench/README.md). So is a review, or a listing of a large workspace's keys.
//
// A read may be done in steps (RunInSteps): the thread takes its reads in turn, one step each,
// so that a short read handed over behind a long one waits for one of its steps, not for all of
// it. A read given whole (Run) is one step. Reads start in the order given.
//
// Thread-safe.

#include <time.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "core/thread_priority.h"

namespace keyledger {

class ReadThread {
 public:
  // The thread runs each read at `priority`. Below normal, it takes a core that an I/O thread
  // shares with it only in the gaps that thread leaves (kIdle), or for a small share (kLow).
  // At kIdle a read may wait for as long as the core stays busy; with a non-zero `raise_after`,
  // a read that has had less than kStarvedShare of a core over `raise_after` of its steps is
  // raised to kLow for the rest of it (each of its later steps runs at kLow), so a saturated
  // server still answers it, slowly (raising needs the right to leave idle priority:
  // CanLeaveIdlePriority). Another read's steps run at `priority` until that read, too, starves.
  // A read that gets the core's gaps is never raised: at kLow it would share the core with the
  // I/O thread in scheduler slices, which the kernel's EEVDF scheduler lets run for a while
  // before a waking I/O thread gets the core (raised after 0.5 s whatever it got, audits of a
  // ~400 k-key workspace during a paced verify load put its p99 at 4.7 ms; at idle, 1.8-2.6 ms).
  explicit ReadThread(BackgroundPriority priority = BackgroundPriority::kNormal,
                      std::chrono::milliseconds raise_after = std::chrono::milliseconds(0))
      : priority_(priority), raise_after_(raise_after) {}
  ~ReadThread();  // Stop()s
  ReadThread(const ReadThread&) = delete;
  ReadThread& operator=(const ReadThread&) = delete;

  // Under this share of a core over raise_after, a read is starving.
  static constexpr double kStarvedShare = 0.2;

  // One step of a read: does a bounded part of it and says whether the read is done.
  using Step = std::function<bool()>;

  // Runs `read` on the thread (started by the first read) after the reads handed over before it
  // have started and had a step each, and returns without waiting. After Stop(), runs it at once
  // on the caller's thread instead.
  void Run(std::function<void()> read);
  // The same for a read done in steps: `step` runs until it returns true, one call per turn of
  // the thread's reads; between two of its calls the thread yields its core.
  void RunInSteps(Step step);
  // Runs the reads still waiting to the end, then ends the thread. Idempotent.
  void Stop();

  // Until the returned object is destroyed, the read thread runs at normal priority; then at the
  // read's priority again (raised or not). For the parts of a read that take locks a request
  // thread may wait for: the state's lock, or the server's own when it hands an answer over. At
  // idle priority a thread holding such a lock can be kept from releasing it by any busier
  // thread on its core, a priority inversion (a compile at nice 10 on the server's core made
  // verifies wait behind reviews: p99 0.14 s). Called on any other thread, or with the thread at
  // normal priority, does nothing. The read thread changes its priority only outside this
  // object's mutex, which Run takes on the I/O thread.
  class Urgency {
   public:
    Urgency(Urgency&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Urgency(const Urgency&) = delete;
    Urgency& operator=(const Urgency&) = delete;
    Urgency& operator=(Urgency&&) = delete;
    ~Urgency() {
      if (owner_) owner_->EndUrgency();
    }

   private:
    friend class ReadThread;
    explicit Urgency(ReadThread* owner) : owner_(owner) {}
    ReadThread* owner_;  // null: nothing to undo
  };
  [[nodiscard]] Urgency Urgent();

 private:
  bool raises() const {
    return priority_ == BackgroundPriority::kIdle && raise_after_ > std::chrono::milliseconds(0);
  }
  struct Read {
    Step step;
    uint64_t id = 0;
    bool raised = false;  // the watchdog found it starving
  };
  void Loop();
  // While raises(): waits for a read's steps to start, and raises the thread if that read
  // starves before another read's step starts or the reads run out.
  void Watch(clockid_t read_thread_clock);
  void EndUrgency();
  // REQUIRES: mutex_ held. The priority the running step is at outside Urgent sections.
  BackgroundPriority ReadPriorityLocked() const {
    return raised_ ? BackgroundPriority::kLow : priority_;
  }

  const BackgroundPriority priority_;
  const std::chrono::milliseconds raise_after_;

  std::mutex mutex_;
  std::condition_variable woken_;            // for Loop: a read or Stop
  std::condition_variable read_changed_;     // for Watch: a read started or ended, or Loop did
  std::deque<Read> reads_;                   // GUARDED_BY(mutex_) in turn; the running one is out
  bool stopped_ = false;                     // GUARDED_BY(mutex_)
  bool reading_ = false;                     // GUARDED_BY(mutex_) the thread has reads to run
  uint64_t reads_given_ = 0;                 // GUARDED_BY(mutex_) the last read's id
  uint64_t running_read_ = 0;                // GUARDED_BY(mutex_) the id of the read stepping
  bool raised_ = false;                      // GUARDED_BY(mutex_) the running read is raised
  bool urgent_ = false;                      // GUARDED_BY(mutex_) inside an Urgent section
  std::atomic<std::thread::id> thread_id_;   // the read thread's, set once it runs
  bool loop_ended_ = false;                  // GUARDED_BY(mutex_) the thread has no more reads
  int tid_ = 0;                              // GUARDED_BY(mutex_) the thread's, once it runs
  std::thread thread_;                       // started under mutex_
  std::thread watchdog_;                     // started under mutex_, with thread_, if raises()
};

}  // namespace keyledger
