#pragma once
// Runs RocksDB's flushes and compactions at idle priority (core/thread_priority.h) while they keep
// up, and at normal priority while they fall behind: while some column family has two sealed
// memtables waiting for a flush, or RocksDB is stalling writes.
//
// Why: at idle priority they run only when a core is otherwise idle, which is what keeps them
// from delaying requests (paced verify p99 1.9-2.2 ms against 3.5-5.2 ms with flushes at normal
// priority, alternating runs). But on a core that saturating requests keep busy they never run:
// memtables, then level-0 files, pile up until RocksDB slows and then stops every write, and the
// writer is the I/O thread. Measured with flushes always idle: p99 of 0.3-1.3 s in 4 of 16
// saturating 10-second loads. Falling a memtable behind is the earliest sign, a memtable (~3 s of
// saturating load) before RocksDB would start to delay writes.
//
// Registered as a RocksDB EventListener. A background thread makes itself known when it starts a
// flush or compaction (those callbacks run on it); every change of the verdict re-prioritises all
// known threads.
//
// Thread-safe.

#include <rocksdb/listener.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "core/thread_priority.h"

namespace keyledger {

class BackgroundPriorityListener final : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "keyledger.BackgroundPriority"; }
  void OnFlushBegin(rocksdb::DB* db, const rocksdb::FlushJobInfo& info) override;
  void OnCompactionBegin(rocksdb::DB* db, const rocksdb::CompactionJobInfo& info) override;
  void OnMemTableSealed(const rocksdb::MemTableInfo& info) override;
  void OnFlushCompleted(rocksdb::DB* db, const rocksdb::FlushJobInfo& info) override;
  void OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) override;

  // What background threads run at now.
  BackgroundPriority priority() const;

 private:
  BackgroundPriority PriorityLocked() const;
  void EnlistThisThread();
  // Runs `change` on the state under the lock, then re-prioritises every known thread if that
  // changed the verdict.
  template <class Change>
  void Update(Change&& change);

  mutable std::mutex mutex_;
  std::set<int> threads_;                               // GUARDED_BY(mutex_): Linux thread ids
  std::map<std::string, std::set<uint64_t>> unflushed_;  // GUARDED_BY(mutex_): column family →
                                                         // first seqnos of sealed, unflushed memtables
  std::set<std::string> stalled_;                       // GUARDED_BY(mutex_): column families
                                                         // stalling writes
};

}  // namespace keyledger
