#pragma once
// The appender: the one owner of sequence numbers, and keyledger's group commit.
//
// Producers Submit requests from any thread. One thread takes every waiting request, runs each
// request's `prepare` in arrival order — assigning seq, ts and hash to the events it returns and
// handing each to the EventSink (the projections) before the next request is prepared — then
// writes the whole batch as one WriteBatch: one WAL write, and one fsync if any request in it
// asked for kSync. Then every request's `done` runs with the batch's status.
//
// Because `prepare` runs on the appender thread against projections that reflect every earlier
// event and none later, a decision made there (is this key still valid?) is ordered with the log
// itself: the invariant "no valid use after that key's end" holds by construction.
//
// The projections see an event before its batch is durable. If the write then fails, the store
// goes into its sticky error, every later request fails with Unavailable, and the process must be
// restarted, which rebuilds the projections from the log. Nothing unacknowledged is visible to a
// client as a success: tokens and acks are released only in `done`.

#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/thread_priority.h"
#include "core/status.h"
#include "events/event.h"
#include "events/store.h"

namespace keyledger {

enum class Durability { kSync, kWal };

// Extra rows written atomically with the batch's events.
class BatchRows {
 public:
  explicit BatchRows(rocksdb::WriteBatch& batch, const EventStore& store)
      : batch_(batch), store_(store) {}
  void Put(Cf cf, std::string_view key, std::string_view value);
  void Delete(Cf cf, std::string_view key);
  // Deletes every row in [begin, end).
  void DeleteRange(Cf cf, std::string_view begin, std::string_view end);

 private:
  rocksdb::WriteBatch& batch_;
  const EventStore& store_;
};

// Rows for a batch written outside the appender (checkpoints, metadata).
inline BatchRows BatchRowsForStore(rocksdb::WriteBatch& batch, const EventStore& store) {
  return BatchRows(batch, store);
}

class EventSink {
 public:
  virtual ~EventSink() = default;
  // On the appender thread, in log order, once the event has its seq and hash and before its
  // batch is written. May add rows that must be atomic with the event.
  virtual void Apply(const Event& event, std::string_view body, BatchRows& rows) = 0;
  // On the appender thread after each batch is written successfully.
  virtual void AfterBatch(uint64_t head_seq) {}
  // On the appender thread before each batch while the log is writable: the sink then reflects
  // exactly the written log (periodic work such as checkpoints belongs here or in AfterBatch).
  virtual void BeforeBatch(uint64_t head_seq) {}
};

struct AppendContext {
  TimeMs now;       // the ts every event of this request carries
  BatchRows& rows;  // rows atomic with this request's events
};

struct AppendRequest {
  Durability durability = Durability::kSync;
  // On the appender thread, at sequence time. Returns the events to append (maybe none), or a
  // Status that refuses the request and appends nothing.
  std::function<Result<std::vector<PendingEvent>>(AppendContext&)> prepare;
  // On the appender thread once the batch is written or has failed, or at once when the request is
  // refused. [first_seq, last_seq] are its events; both 0 when it appended none. Must not block.
  std::function<void(const Status&, uint64_t first_seq, uint64_t last_seq)> done;
  // Optional: prepares what `done` will need (an answer to build) while the request is written
  // but not yet durable. Inline mode only, on the executor thread that has run out of work and is
  // about to fsync the request's group (SyncHeldOnIdleThread): that thread starts the WAL's
  // writeback, runs the group's stage steps while the disk writes, then fsyncs. The work thus
  // overlaps the disk's round trip instead of following it, and the acknowledgements go out as
  // soon as the fsync returns. Must not acknowledge anything: `done` still runs after the fsync,
  // with its outcome, in log order. Not called for a request that prepare refused or whose write
  // failed, nor when the appender thread fsyncs the group; `done` must then do all the work.
  // Must not block.
  std::function<void(uint64_t first_seq, uint64_t last_seq)> stage;
};

struct AppenderOptions {
  size_t max_batch_requests = 2048;
  // The appender thread's priority while it only fsyncs for the executor's writers (UseExecutor);
  // it writes at normal priority otherwise. Below normal (kBatch in `serve`), the syncer starts
  // the next fsync only once the I/O thread sharing its core has run out of work or at the next
  // tick, so each fsync covers as large a group as the requests in flight make: an fsync costs
  // ~100 us of CPU here whatever it covers. The fsync itself then runs at normal priority
  // (SyncForAcknowledgements). Measured in bench/README.md.
  BackgroundPriority syncer_priority = BackgroundPriority::kNormal;
  // The longest a batch written without an fsync (its requests all asked for kWal) goes without
  // one: the appender thread fsyncs the WAL once the first such batch since the last fsync is this
  // old, and when it stops. DESIGN.md: a power cut may lose the last fsync interval. Zero: such
  // batches are fsynced only along with a later batch that asks for kSync.
  std::chrono::milliseconds wal_sync_interval{0};
  // Zero: the appender thread fsyncs each group of held acknowledgements (UseExecutor) as soon as
  // it is held. Otherwise the executor's threads fsync them themselves when they run out of work
  // (they must then call SyncHeldOnIdleThread), and the appender thread fsyncs a group only once
  // it has been held this long: a fallback for an executor that never runs out of work. The
  // thread that has just run dry would otherwise wake the appender thread and sleep, and the
  // fsync's completion would wake both again; measured in bench/README.md.
  std::chrono::microseconds idle_sync_fallback{0};
};

// Runs `work` soon on a thread of its own choosing, never inside the call (e.g. posts it to an
// io_context). Must accept work from any thread.
using AppendExecutor = std::function<void(std::function<void()>)>;

// Thread-safe.
class Appender {
 public:
  Appender(EventStore& store, EventSink& sink, const Clock& clock, AppenderOptions options = {});
  ~Appender();  // Stop()s
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  // Reads the log head and starts the writer thread.
  // REQUIRES: the sink already reflects every event in the log.
  Status Start();
  void Submit(AppendRequest request);
  // Finishes every request submitted before it, then joins the thread. Later Submits fail with
  // Unavailable. Idempotent. After UseExecutor, no longer hands work to the executor once called.
  void Stop();

  // Inline mode: from now on batches are prepared and written by work handed to `executor` (in a
  // server, the I/O threads) instead of by the appender thread, so that a request submitted from
  // an I/O thread is sequenced, written and answered there without waking another thread. At most
  // one batch is in progress at a time (the writer role), so `prepare`, the sink and `done` still
  // run one at a time, in log order, against projections that only the writer changes.
  // The writer never waits for a batch's fsync (the sink's own periodic work, such as a
  // checkpoint, still writes as it did): a batch that asked for kSync is written to the WAL and
  // its completions (and those of every later batch, so that acknowledgements keep log order)
  // wait until the WAL has been fsynced (by the appender thread, or with idle_sync_fallback by
  // an executor thread that ran out of work); they then run in the writer role.
  // REQUIRES: after Start(), at most once.
  void UseExecutor(AppendExecutor executor);
  // Ends inline mode: the appender thread writes again, including what was handed to the
  // executor and never run. For when the executor stops running work (its io_context stopped)
  // while the appender must still write. A turn the executor runs later finds nothing to do.
  void UseOwnThread();
  // With options.idle_sync_fallback, for an executor thread that has no work left to run: fsyncs
  // the WAL here for the held acknowledgements, if any wait and no fsync is in flight, and hands
  // them to the executor. Returns whether it handed anything over (the executor then has work).
  // Otherwise, or outside inline mode, does nothing and returns false.
  bool SyncHeldOnIdleThread();

  // The appender thread's Linux thread id (see CurrentThreadId), 0 until the thread has started.
  int thread_id() const { return thread_id_.load(std::memory_order_acquire); }

  uint64_t head_seq() const;
  Digest head_hash() const;
  TimeMs head_ts() const;

 private:
  struct Completion {
    AppendRequest request;
    Status status;
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;
    bool needs_sync = false;  // inline mode: acknowledged only after an fsync
  };
  void Run();
  void RunSyncer(std::unique_lock<std::mutex>& lock);
  // The fsync that held acknowledgements wait for. With a syncer_priority below normal it runs at
  // normal priority: an fsync here is three disk round trips (the data, the inode, the cache
  // flush), and at kBatch the syncer took each completion only once the I/O thread ran out of
  // work, so one fsync stretched over a whole burst of requests and left the core idle at its
  // end. Raised, each completion is taken as it comes (a few microseconds).
  Status SyncForAcknowledgements();
  // REQUIRES: mutex_ held. Waits until `has_work()`, meanwhile fsyncing the WAL whenever a write
  // has gone options_.wal_sync_interval without one (unlocks around the fsync).
  template <class HasWork>
  void WaitSyncingWhenDue(std::unique_lock<std::mutex>& lock, HasWork has_work);
  // REQUIRES: mutex_ held. The syncer's wait: until inline mode ends or held_ has a group for
  // the appender thread to acknowledge (at once, or with idle_sync_fallback once it has waited
  // that long), meanwhile fsyncing the WAL as WaitSyncingWhenDue does.
  void WaitForDueGroup(std::unique_lock<std::mutex>& lock);
  // REQUIRES: mutex_ held, no fsync in flight. Moves the completions at the front of held_ that
  // need no fsync (they only waited for an fsync before them, now done) to ready_, and takes the
  // rest: one fsync covers them all, since each was written before it was held.
  std::vector<Completion> TakeHeldGroupLocked();
  // REQUIRES: mutex_ held, `group` taken by TakeHeldGroupLocked. Fsyncs it with `sync` (unlocks
  // around the call; with `stage`, runs the group's stage steps first) and moves it to ready_.
  template <class Sync>
  void SyncGroupLocked(std::unique_lock<std::mutex>& lock, std::vector<Completion> group, Sync sync,
                       bool stage);
  static void RunStages(std::vector<Completion>& group);
  // REQUIRES: mutex_ held. An fsync is about to start: it covers every write made so far.
  void SyncStartingLocked() { unsynced_since_.reset(); }
  // REQUIRES: mutex_ held. Fsyncs the WAL for writes no acknowledgement waits on (unlocks around
  // the fsync).
  void SyncUnsyncedLocked(std::unique_lock<std::mutex>& lock);
  // Prepares and writes `requests` as one batch. With `sync_now`, a batch that asked for kSync is
  // fsynced by the write itself; otherwise it is only written and its completions say needs_sync.
  // Returns the completions in request order; does not run them.
  std::vector<Completion> ProcessBatch(std::deque<AppendRequest>& requests, bool sync_now);
  static void RunCompletions(std::vector<Completion>& completions);
  // REQUIRES: mutex_ held. The next batch: up to max_batch_requests from the front of the queue.
  std::deque<AppendRequest> TakeBatchLocked();
  // Inline mode: one turn of the writer role, on an executor thread.
  void Drain();
  // REQUIRES: mutex_ held. Hands a Drain to the executor unless one is pending or running.
  // Returns the work to hand over (call it outside the lock), or an empty function.
  std::function<void()> ScheduleDrainLocked();

  EventStore& store_;
  EventSink& sink_;
  const Clock& clock_;
  const AppenderOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<AppendRequest> queue_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;            // GUARDED_BY(mutex_)
  bool started_ = false;             // GUARDED_BY(mutex_)
  uint64_t head_seq_ = 0;            // GUARDED_BY(mutex_) for readers; written by the thread
  Digest head_hash_{};               // GUARDED_BY(mutex_)
  TimeMs head_ts_ = 0;               // GUARDED_BY(mutex_)
  // Inline mode (UseExecutor). All GUARDED_BY(mutex_).
  AppendExecutor executor_;          // empty: the appender thread writes (thread mode)
  bool writer_busy_ = false;         // a batch is being prepared or written
  bool drain_posted_ = false;        // a Drain was handed to the executor and has not started
  bool sync_in_flight_ = false;      // a thread is fsyncing the WAL for held acknowledgements
  bool syncer_watches_held_ = true;  // the syncer's wait has a deadline for held_ (or it runs)
  std::chrono::steady_clock::time_point held_since_;  // when held_ last became non-empty
  // When the first write that no fsync covers yet was made (only with a wal_sync_interval).
  std::optional<std::chrono::steady_clock::time_point> unsynced_since_;  // GUARDED_BY(mutex_)
  std::vector<Completion> held_;     // written, in log order, waiting for an fsync or for one
                                     // in flight before them
  std::vector<Completion> ready_;    // may be acknowledged: run by the next writer turn
  std::condition_variable idle_;     // signalled when writer_busy_ or sync_in_flight_ clears
  std::mutex stop_mutex_;  // serialises concurrent Stop() calls around the join
  std::thread thread_;
  std::atomic<int> thread_id_{0};
};

}  // namespace keyledger
