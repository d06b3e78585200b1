#pragma once
// The RocksDB database behind keyledger: the event log and the rows that must be atomic with it.
//
// Column families
//   events        8-byte big-endian seq → stored event (format: events/codec.h)
//   by_workspace  workspace ‖ 0x00 ‖ 8-byte BE seq → 1-byte event type   (audit index: lifecycle)
//                 workspace ‖ 0x01 ‖ 8-byte BE seq → 1-byte event type   (audit index: key.used;
//                 logs written before it existed hold their uses under 0x00 too)
//   by_key        key_id ‖ 0x00 ‖ 8-byte BE seq → 1-byte event type      (per-key history: lifecycle)
//                 key_id ‖ 0x01 ‖ 8-byte BE seq → 1-byte event type      (per-key history: key.used;
//                 older logs hold their uses under 0x00 too)
//   idempotency   workspace ‖ 0x00 ‖ idempotency key → record (projections/idempotency.h)
//   meta          named rows: checkpoints, signing metadata
//
// This is the only file that sees rocksdb::Status. Writes are all-or-nothing WriteBatches; a failed
// write makes the store refuse every later write (sticky error) so that the log never has a hole
// behind an acknowledged event.
//
// Thread-safe.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_priority.h"

namespace keyledger {

class PrezeroedWalFileSystem;

enum class Cf : uint8_t { kEvents, kByWorkspace, kByKey, kIdempotency, kMeta };
inline constexpr size_t kCfCount = 5;

std::string EncodeSeq(uint64_t seq);  // 8 bytes big-endian
uint64_t DecodeSeq(std::string_view bytes);  // REQUIRES: bytes.size() >= 8

// RocksDB keeps at most this many table files open (its default keeps every one): the process's
// file descriptors are shared with the connections, which the server caps below what is left.
inline constexpr int kStoreMaxOpenFiles = 512;

struct StoreOptions {
  bool read_only = false;          // offline tools beside a live server
  bool create_if_missing = true;
  size_t block_cache_bytes = 64 << 20;
  // Of RocksDB's flush and compaction threads (process-wide: Env::Default()'s pools). A server
  // sets kIdle, which raises them to normal while they fall behind (events/background_priority.h);
  // tests and tools keep kNormal.
  BackgroundPriority background_priority = BackgroundPriority::kNormal;
  // Memtables per column family before writes wait for a flush: room for bursts, and for a flush
  // that shares its core with saturating requests (or waits on a slow disk) to catch up.
  int max_write_buffers = 2;
};

class EventStore {
 public:
  static Result<std::unique_ptr<EventStore>> Open(const std::string& dir, const StoreOptions& options);
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Atomically writes `batch`. With sync, returns after the WAL is fsynced; without, after it is
  // written to the WAL (survives a killed process). Unavailable after any earlier failure.
  Status Write(rocksdb::WriteBatch& batch, bool sync);
  // Fsyncs what earlier Writes without sync put in the WAL. Same error rules as Write.
  Status SyncWal();
  // Starts writing what the WAL holds to disk, without waiting (see
  // PrezeroedWalFileSystem::StartWalWriteback): for work to overlap a SyncWal about to follow.
  // Durability still comes only from SyncWal. Does nothing on a read-only store.
  void StartWalWriteback();
  // WAL fsyncs done so far: SyncWal calls and Writes with sync that succeeded.
  uint64_t wal_fsyncs() const { return wal_fsyncs_.load(std::memory_order_relaxed); }
  // The first write failure, or ok.
  Status sticky_error() const;
  // For tests that must inject a write failure.
  void InjectWriteFailureForTesting(bool fail) { fail_writes_for_testing_ = fail; }
  // For tests that must hold an fsync in flight: SyncWal runs `hook` first. Set it before any
  // thread may call SyncWal.
  void RunBeforeWalSyncForTesting(std::function<void()> hook) { before_wal_sync_for_testing_ = std::move(hook); }

  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return handles_[static_cast<size_t>(which)]; }

  // nullopt when absent.
  Result<std::optional<std::string>> Get(Cf which, std::string_view key) const;
  // The highest seq in `events` (0 when empty) and its stored value.
  Result<std::pair<uint64_t, std::string>> LastEvent() const;
  // Calls fn(key, value) for keys in [from, to) of `which` in order until fn returns false.
  // An empty `to` means no upper bound.
  Status Scan(Cf which, std::string_view from, std::string_view to,
              const std::function<bool(std::string_view, std::string_view)>& fn) const;
  // Same, for one pass over much of a column family (replay, verify-log, export): reads ahead
  // 4 MiB at a time and leaves the block cache to the rows that are read again.
  Status ScanBulk(Cf which, std::string_view from, std::string_view to,
                  const std::function<bool(std::string_view, std::string_view)>& fn) const;
  // Same as Scan, newest first: keys in [from, to) from the top down.
  Status ScanReverse(Cf which, std::string_view from, std::string_view to,
                     const std::function<bool(std::string_view, std::string_view)>& fn) const;
  // Scan (or ScanReverse) of several key ranges [from, to) of `which` at once, on one snapshot, as
  // one stream ordered by the keys' last 8 bytes (a big-endian seq, as every index row ends): for
  // an index that keeps one owner's rows in more than one range. Ranges may be empty; their rows
  // must not share a seq.
  struct KeyRange {
    std::string_view from;
    std::string_view to;
  };
  Status ScanBySeq(Cf which, const std::vector<KeyRange>& ranges, bool reverse,
                   const std::function<bool(std::string_view, std::string_view)>& fn) const;

  // Consistent copy for backups, via RocksDB's checkpoint (hard links where possible).
  Status CreateCheckpointCopy(const std::string& to_dir) const;
  Status Flush();
  // Returns once RocksDB has no compaction pending or running (polls every 20 ms), or Unavailable
  // after `timeout_ms`. For measurements that must not share the machine with one (bench/).
  Status WaitForCompactions(uint64_t timeout_ms) const;
  const std::string& dir() const { return dir_; }

 private:
  EventStore() = default;
  Status Fail(const rocksdb::Status& s);
  enum class ScanKind : uint8_t { kForward, kReverse, kBulk };
  // An iterator over the keys in [from, to) of `which` (an empty bound is no bound), on `snapshot`
  // when given, placed at its first row in the order `kind` scans. The iterator reads `lower` and
  // `upper`, which this sets: they must outlive it.
  std::unique_ptr<rocksdb::Iterator> NewScanIterator(Cf which, std::string_view from, std::string_view to,
                                                     ScanKind kind, const rocksdb::Snapshot* snapshot,
                                                     rocksdb::Slice& lower, rocksdb::Slice& upper) const;
  Status ScanImpl(Cf which, std::string_view from, std::string_view to, ScanKind kind,
                  const std::function<bool(std::string_view, std::string_view)>& fn) const;

  std::string dir_;
  std::unique_ptr<rocksdb::Env> env_;  // when not RocksDB's default; outlives db_
  std::shared_ptr<PrezeroedWalFileSystem> wal_file_system_;  // writable stores only
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned by db_; destroyed before it
  bool read_only_ = false;

  mutable std::mutex error_mutex_;
  Status sticky_error_;                     // GUARDED_BY(error_mutex_)
  std::atomic<bool> has_sticky_error_{false};
  std::atomic<bool> fail_writes_for_testing_{false};
  std::function<void()> before_wal_sync_for_testing_;
  std::atomic<uint64_t> wal_fsyncs_{0};
};

}  // namespace keyledger
