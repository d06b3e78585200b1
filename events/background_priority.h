#pragma once
// Runs RocksDB's flushes and compactions at idle priority (core/thread_priority.h) while they keep
// up; at low priority (a tenth of a request thread's share of a core) while they fall behind, i.e.
// some column family has two or more sealed memtables waiting for a flush; and at normal priority
// while RocksDB is stalling writes.
//
// Why: at idle priority they run only when a core is otherwise idle, which is what keeps them
// from delaying requests (paced verify p99 1.9-2.2 ms against 3.5-5.2 ms with flushes at normal
// priority, alternating runs). But on a core that saturating requests keep busy they never run:
// memtables, then level-0 files, pile up until RocksDB slows and then stops every write, and the
// writer is the I/O thread. Measured with flushes always idle: p99 of 0.3-1.3 s in 4 of 16
// saturating 10-second loads. Falling a memtable behind is the earliest sign, three memtables
// (~3 s of saturating load each) before RocksDB would start to delay a server's writes.
//
// Low, not normal: a flush needs ~6% of a core saturated with verifies; at normal priority it took
// half the core whenever it ran, in pieces close together, and a request in flight met several of
// them. At low priority the same work is spread thinly between the requests'. Alternated pairs of
// runs, second saturating load of each (bench/README.md, tenth session): authz p99 1.69-1.80 ms
// against 2.45-3.73 ms with normal priority from three memtables behind; no write stall in a
// 2-minute saturating load. Only a stall, RocksDB's own verdict that they are too slow, gives them
// a full share.
//
// Just behind they are also paced: their writes go through a rate limiter (the `pacer`,
// events/background_pacer.h) set to kPacedBytesPerSecond, in writes of at most kPacedWriteBytes
// (EventStore sets writable_file_max_buffer_size), so that a flush sleeps until the limiter's
// next 1 ms refill every few tens of µs of work. Why: this kernel (HZ=250, no preemption) takes
// the core from a thread that does not sleep only at a tick, so an unpaced flush at normal
// priority held the core for 4-5 ms at a time, and every connection of the I/O thread sharing it
// waited that long (bench/README.md, ninth session). A paced flush can fall further behind,
// though: one sealed memtable more and the limiter lets everything through again
// (kUnpacedBytesPerSecond), as it does at idle priority (a flush then gives way to any request
// anyway) and while RocksDB stalls writes. A server keeps six memtables per column family, so
// that the unpaced catching-up starts two memtables before RocksDB would delay a write.
//
// Registered as a RocksDB EventListener. A background thread makes itself known when it starts a
// flush or compaction (those callbacks run on it); every change of the verdict re-prioritises all
// known threads and re-sets the pacer.
//
// Thread-safe.

#include <rocksdb/listener.h>
#include <rocksdb/rate_limiter.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "core/thread_priority.h"

namespace keyledger {

class BackgroundPriorityListener final : public rocksdb::EventListener {
 public:
  // Sealed memtables waiting in one column family that raise the priority to kLow; at exactly
  // this many, writes are also paced.
  static constexpr size_t kBehindBacklog = 2;
  static constexpr int64_t kPacedBytesPerSecond = int64_t{64} << 20;
  static constexpr int64_t kUnpacedBytesPerSecond = int64_t{4} << 30;
  static constexpr int64_t kPacerRefillMicros = 1000;
  // The largest write of a flush or compaction: about one per refill while paced.
  static constexpr size_t kPacedWriteBytes = size_t{64} << 10;
  // A rate limiter for DBOptions::rate_limiter, unpaced until the listener paces it.
  static std::shared_ptr<rocksdb::RateLimiter> NewPacer();

  // `pacer` may be null (priorities only).
  explicit BackgroundPriorityListener(std::shared_ptr<rocksdb::RateLimiter> pacer = nullptr)
      : pacer_(std::move(pacer)) {}

  const char* Name() const override { return "keyledger.BackgroundPriority"; }
  void OnFlushBegin(rocksdb::DB* db, const rocksdb::FlushJobInfo& info) override;
  void OnCompactionBegin(rocksdb::DB* db, const rocksdb::CompactionJobInfo& info) override;
  void OnMemTableSealed(const rocksdb::MemTableInfo& info) override;
  void OnFlushCompleted(rocksdb::DB* db, const rocksdb::FlushJobInfo& info) override;
  void OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) override;

  // What background threads run at now.
  BackgroundPriority priority() const;
  // Whether their writes are paced now.
  bool paced() const;

 private:
  size_t DeepestBacklogLocked() const;
  BackgroundPriority PriorityLocked() const;
  bool PacedLocked() const;
  void EnlistThisThread();
  // Runs `change` on the state under the lock, then re-prioritises every known thread if that
  // changed the verdict.
  template <class Change>
  void Update(Change&& change);

  const std::shared_ptr<rocksdb::RateLimiter> pacer_;
  mutable std::mutex mutex_;
  std::set<int> threads_;                               // GUARDED_BY(mutex_): Linux thread ids
  std::map<std::string, std::set<uint64_t>> unflushed_;  // GUARDED_BY(mutex_): column family →
                                                         // first seqnos of sealed, unflushed memtables
  std::set<std::string> stalled_;                       // GUARDED_BY(mutex_): column families
                                                         // stalling writes
};

}  // namespace keyledger
