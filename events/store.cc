#include "events/store.h"

#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>

#include <array>
#include <chrono>
#include <thread>

#include "core/log.h"
#include "events/background_priority.h"
#include "events/paced_file_system.h"
#include "events/prezeroed_wal_file_system.h"
#include "events/rocksdb_log.h"

namespace keyledger {
namespace {

constexpr std::array<const char*, kCfCount> kCfNames = {"events", "by_workspace", "by_key",
                                                        "idempotency", "meta"};

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string message(what);
  message.append(": ").append(s.ToString());
  if (s.IsNotFound()) return Status::NotFound(std::move(message));
  if (s.IsInvalidArgument()) return Status::Invalid(std::move(message));
  return Status::Internal(std::move(message));
}

// The audit index keys (by_workspace, by_key) are a prefix followed by an 8-byte big-endian seq,
// and each prefix's keys arrive in seq order. With this as the memtable's insert-hint extractor,
// the skiplist remembers where the last key of each prefix went and inserts the next one there
// instead of searching from the top. by_workspace uses it: few prefixes, each written over and
// over. by_key does not: the hint map keeps an entry per key in the memtable (a new one for every
// key created), and measured (perf, 4 runs each) the map cost more than the searches it saved:
// memtable inserts fell from 6.7% to 5.9% of a verify's CPU and from 5.5% to 3.0% of a
// creation's without it.
class IndexKeyPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "keyledger.IndexKeyPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > 8; }
};

// The events column family's keys are seqs, appended in increasing order: one prefix for all of
// them, so that the memtable inserts each event right after the previous one (a remembered
// splice) instead of searching the skiplist from its top level.
class WholeLog final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "keyledger.WholeLog"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return rocksdb::Slice(key.data(), 0); }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

}  // namespace

std::string EncodeSeq(uint64_t seq) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(seq & 0xFF);
    seq >>= 8;
  }
  return out;
}

uint64_t DecodeSeq(std::string_view bytes) {
  uint64_t seq = 0;
  for (int i = 0; i < 8; ++i) seq = seq << 8 | static_cast<uint8_t>(bytes[i]);
  return seq;
}

Result<std::unique_ptr<EventStore>> EventStore::Open(const std::string& dir,
                                                     const StoreOptions& options) {
  rocksdb::Options db_options;
  std::unique_ptr<rocksdb::Env> env;
  std::shared_ptr<rocksdb::FileSystem> file_system = rocksdb::FileSystem::Default();
  db_options.create_if_missing = options.create_if_missing && !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  db_options.IncreaseParallelism(2);
  db_options.max_total_wal_size = 256 << 20;
  // No LOG file (events/rocksdb_log.h). A read-only open beside a live server races its flushes
  // and compactions and retries (tools/cli_support.h): the tools report what failed themselves.
  db_options.info_log = NewRocksDbLogBridge(options.read_only ? rocksdb::InfoLogLevel::FATAL_LEVEL
                                                              : rocksdb::InfoLogLevel::WARN_LEVEL);
  // A read-only view opens every table file up front (RocksDB's -1), so that a live server's
  // compactions cannot delete one from under a scan that has not reached it yet.
  db_options.max_open_files = options.read_only ? -1 : kStoreMaxOpenFiles;
  // WAL recovery stays RocksDB's point-in-time default: it stops at the first record that fails
  // its checksum. kTolerateCorruptedTailRecords, which refuses to open instead, was tried: on this
  // prezeroed WAL the record a kill -9 tears (its header written, its body still zeros) fails its
  // checksum like a damaged one, and a plain crash restart was refused. What recovery drops is
  // logged as an error (events/rocksdb_log.cc); serve tells a damaged record from a torn one and
  // keeps a copy before opening (events/wal_scan.h).
  // No fallocate: RocksDB reserves each WAL's space ahead in ~70 MB fallocate calls, made by the
  // writer (here the I/O thread) inside a verify's write. ext4 then reads block bitmaps from disk,
  // and on this shared VM that stalled the I/O thread for 60 ms in state D (traced with
  // perf sched). Without it, blocks are allocated at writeback, off the request path.
  db_options.allow_fallocate = false;
  if (!options.read_only && options.background_priority == BackgroundPriority::kIdle) {
    // Flushes and compactions yield the CPU to request threads while they keep up
    // (events/background_priority.h).
    for (auto pool : {rocksdb::Env::Priority::HIGH, rocksdb::Env::Priority::LOW}) {
      rocksdb::Status lowered = db_options.env->LowerThreadPoolCPUPriority(pool, rocksdb::CpuPriority::kIdle);
      if (!lowered.ok()) log::Warn("lowering RocksDB's background priority: " + lowered.ToString());
    }
    // ... and are paced while just behind. The pace needs small writes (RocksDB's default buffers
    // 1 MiB); the delayed-write rate would otherwise be inferred from the limiter's (unpaced) rate
    // instead of RocksDB's default.
    db_options.rate_limiter = BackgroundPriorityListener::NewPacer();
    db_options.writable_file_max_buffer_size = BackgroundPriorityListener::kPacedWriteBytes;
    db_options.delayed_write_rate = 16 << 20;
    db_options.listeners.push_back(std::make_shared<BackgroundPriorityListener>(db_options.rate_limiter));
    // ... and delete obsolete files in pieces (events/paced_file_system.h), always on a background
    // thread: without this, the thread that releases a file's last reference (an I/O thread
    // ending an audit query's iterator, say) deletes it there, evicting it from the cache.
    file_system = std::make_shared<PacedFileSystem>(file_system);
    db_options.avoid_unnecessary_blocking_io = true;
  }
  // The WAL filled with zeros ahead of the writer: its fsyncs then have no metadata to commit
  // (events/prezeroed_wal_file_system.h).
  std::shared_ptr<PrezeroedWalFileSystem> wal_file_system;
  if (!options.read_only) {
    wal_file_system = std::make_shared<PrezeroedWalFileSystem>(file_system);
    file_system = wal_file_system;
  }
  if (file_system != rocksdb::FileSystem::Default()) {
    env = rocksdb::NewCompositeEnv(file_system);
    db_options.env = env.get();
  }

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.compression = rocksdb::kLZ4Compression;
  // Levels 0 and 1 uncompressed (RocksDB's tuning guide's advice): a flush then writes the
  // memtable as it is instead of compressing it on the core the requests need, and the first
  // compaction does not decompress it again. Compression starts at level 2, where the log's bulk
  // lives.
  cf_options.compression_per_level.assign(static_cast<size_t>(cf_options.num_levels),
                                          rocksdb::kLZ4Compression);
  cf_options.compression_per_level[0] = cf_options.compression_per_level[1] = rocksdb::kNoCompression;
  cf_options.max_write_buffer_number = options.max_write_buffers;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  rocksdb::ColumnFamilyOptions by_workspace_options = cf_options;
  by_workspace_options.memtable_insert_with_hint_prefix_extractor = std::make_shared<IndexKeyPrefix>();
  rocksdb::ColumnFamilyOptions events_options = cf_options;
  events_options.memtable_insert_with_hint_prefix_extractor = std::make_shared<WholeLog>();
  // meta holds the projection checkpoints, read whole at every start: no decompression on the way.
  rocksdb::ColumnFamilyOptions meta_options = cf_options;
  meta_options.compression = rocksdb::kNoCompression;
  meta_options.compression_per_level.clear();
  for (size_t i = 0; i < kCfNames.size(); ++i) {
    const Cf cf = static_cast<Cf>(i);
    descriptors.emplace_back(kCfNames[i], cf == Cf::kEvents        ? events_options
                                          : cf == Cf::kByWorkspace ? by_workspace_options
                                          : cf == Cf::kMeta        ? meta_options
                                                                   : cf_options);
  }

  std::unique_ptr<EventStore> store(new EventStore());
  store->dir_ = dir;
  store->env_ = std::move(env);
  store->wal_file_system_ = std::move(wal_file_system);
  store->read_only_ = options.read_only;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw)
          : rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s, "opening the database in " + dir);
  store->db_.reset(raw);
  // handles[0] is the default family, which keyledger does not use.
  store->db_->DestroyColumnFamilyHandle(handles[0]);
  store->handles_.assign(handles.begin() + 1, handles.end());
  return store;
}

EventStore::~EventStore() {
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  if (!read_only_) {
    rocksdb::Status s = db_->Close();
    if (!s.ok()) log::Error("closing the database: " + s.ToString());
  }
}

Status EventStore::Write(rocksdb::WriteBatch& batch, bool sync) {
  if (has_sticky_error_.load(std::memory_order_acquire)) return sticky_error();
  if (read_only_) return Status::Unavailable("The store is open read-only.");
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = fail_writes_for_testing_.load()
                          ? rocksdb::Status::IOError("injected write failure")
                          : db_->Write(wo, &batch);
  if (s.ok()) {
    if (sync) wal_fsyncs_.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok();
  }
  return Fail(s);
}

void EventStore::StartWalWriteback() {
  if (wal_file_system_) wal_file_system_->StartWalWriteback();
}

Status EventStore::SyncWal() {
  if (has_sticky_error_.load(std::memory_order_acquire)) return sticky_error();
  if (read_only_) return Status::Unavailable("The store is open read-only.");
  if (before_wal_sync_for_testing_) before_wal_sync_for_testing_();
  rocksdb::Status s = fail_writes_for_testing_.load()
                          ? rocksdb::Status::IOError("injected write failure")
                          : db_->SyncWAL();
  if (s.ok()) {
    wal_fsyncs_.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok();
  }
  return Fail(s);
}

Status EventStore::Fail(const rocksdb::Status& s) {
  std::lock_guard lock(error_mutex_);
  if (!has_sticky_error_.load()) {
    log::Error("event log write failed; refusing further writes: " + s.ToString());
    sticky_error_ = Status::Unavailable("The event log cannot be written; the service refuses "
                                        "writes until it is restarted.");
    has_sticky_error_.store(true, std::memory_order_release);
  }
  return sticky_error_;
}

Status EventStore::sticky_error() const {
  if (!has_sticky_error_.load(std::memory_order_acquire)) return Status::Ok();
  std::lock_guard lock(error_mutex_);
  return sticky_error_;
}

Result<std::optional<std::string>> EventStore::Get(Cf which, std::string_view key) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(which), rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "reading");
  return std::optional<std::string>(value.ToString());
}

Result<std::pair<uint64_t, std::string>> EventStore::LastEvent() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(Cf::kEvents)));
  it->SeekToLast();
  if (!it->Valid()) {
    Status s = FromRocks(it->status(), "reading the log head");
    if (!s.ok()) return s;
    return std::pair<uint64_t, std::string>(0, {});
  }
  if (it->key().size() != 8) return Status::Internal("corrupt event key");
  return std::pair<uint64_t, std::string>(DecodeSeq(it->key().ToStringView()),
                                          it->value().ToString());
}

Status EventStore::Scan(Cf which, std::string_view from, std::string_view to,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  return ScanImpl(which, from, to, ScanKind::kForward, fn);
}

Status EventStore::ScanBulk(Cf which, std::string_view from, std::string_view to,
                            const std::function<bool(std::string_view, std::string_view)>& fn) const {
  return ScanImpl(which, from, to, ScanKind::kBulk, fn);
}

Status EventStore::ScanReverse(Cf which, std::string_view from, std::string_view to,
                               const std::function<bool(std::string_view, std::string_view)>& fn) const {
  return ScanImpl(which, from, to, ScanKind::kReverse, fn);
}

std::unique_ptr<rocksdb::Iterator> EventStore::NewScanIterator(Cf which, std::string_view from, std::string_view to,
                                                               ScanKind kind, const rocksdb::Snapshot* snapshot,
                                                               rocksdb::Slice& lower, rocksdb::Slice& upper) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  // Rows read once must not evict the hot ones: checkpoint chunks, history pages read backwards,
  // whole-log passes. Skipping the cache also spares its per-block bookkeeping (~30% of a scan).
  ro.fill_cache = kind == ScanKind::kForward && which != Cf::kMeta;
  if (kind == ScanKind::kBulk) ro.readahead_size = 4 << 20;
  lower = rocksdb::Slice(from.data(), from.size());
  upper = rocksdb::Slice(to.data(), to.size());
  // An empty bound is no bound. A default std::string_view has a null data(), and RocksDB asserts
  // that the slices it compares are not null, so an empty bound must never reach it.
  if (!from.empty()) ro.iterate_lower_bound = &lower;
  if (!to.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(which)));
  if (kind == ScanKind::kReverse) {
    it->SeekToLast();
  } else if (from.empty()) {
    it->SeekToFirst();
  } else {
    it->Seek(lower);
  }
  return it;
}

Status EventStore::ScanImpl(Cf which, std::string_view from, std::string_view to, ScanKind kind,
                            const std::function<bool(std::string_view, std::string_view)>& fn) const {
  const bool reverse = kind == ScanKind::kReverse;
  rocksdb::Slice lower, upper;
  std::unique_ptr<rocksdb::Iterator> it = NewScanIterator(which, from, to, kind, nullptr, lower, upper);
  for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return FromRocks(it->status(), "scanning");
}

Status EventStore::ScanBySeq(Cf which, const std::vector<KeyRange>& ranges, bool reverse,
                             const std::function<bool(std::string_view, std::string_view)>& fn) const {
  const ScanKind kind = reverse ? ScanKind::kReverse : ScanKind::kForward;
  if (ranges.size() == 1) return ScanImpl(which, ranges[0].from, ranges[0].to, kind, fn);
  struct Cursor {
    rocksdb::Slice lower, upper;
    std::unique_ptr<rocksdb::Iterator> it;
  };
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  std::vector<Cursor> cursors(ranges.size());  // sized once: the iterators point at the bounds
  for (size_t i = 0; i < ranges.size(); ++i) {
    Cursor& c = cursors[i];
    c.it = NewScanIterator(which, ranges[i].from, ranges[i].to, kind, snapshot, c.lower, c.upper);
  }
  const auto seq_of = [](const rocksdb::Iterator& it) {
    const rocksdb::Slice key = it.key();
    return key.size() >= 8 ? DecodeSeq(std::string_view(key.data() + key.size() - 8, 8)) : 0;
  };
  for (;;) {
    Cursor* next = nullptr;
    uint64_t next_seq = 0;
    for (Cursor& c : cursors) {
      if (!c.it->Valid()) continue;
      const uint64_t seq = seq_of(*c.it);
      if (!next || (reverse ? seq > next_seq : seq < next_seq)) {
        next = &c;
        next_seq = seq;
      }
    }
    if (!next) break;
    if (!fn(next->it->key().ToStringView(), next->it->value().ToStringView())) break;
    reverse ? next->it->Prev() : next->it->Next();
  }
  Status status = Status::Ok();
  for (Cursor& c : cursors) {
    if (status.ok()) status = FromRocks(c.it->status(), "scanning");
  }
  cursors.clear();  // the iterators before the snapshot they read
  db_->ReleaseSnapshot(snapshot);
  return status;
}

Status EventStore::CreateCheckpointCopy(const std::string& to_dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return FromRocks(s, "preparing a backup");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(to_dir), "writing the backup to " + to_dir);
}

Status EventStore::Flush() {
  if (read_only_) return Status::Ok();
  rocksdb::FlushOptions fo;
  for (auto* h : handles_) {
    Status s = FromRocks(db_->Flush(fo, h), "flushing");
    if (!s.ok()) return s;
  }
  return FromRocks(db_->SyncWAL(), "syncing the WAL");
}

Status EventStore::WaitForCompactions(uint64_t timeout_ms) const {
  if (read_only_) return Status::Ok();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    uint64_t busy = 0, value = 0;
    if (db_->GetIntProperty(rocksdb::DB::Properties::kNumRunningCompactions, &value)) busy += value;
    for (auto* h : handles_) {
      if (db_->GetIntProperty(h, rocksdb::DB::Properties::kCompactionPending, &value)) busy += value;
    }
    if (busy == 0) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable("RocksDB compactions still running after " + std::to_string(timeout_ms) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace keyledger
