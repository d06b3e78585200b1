#pragma once
// A RocksDB file system whose write-ahead logs are filled with zeros ahead of the writer, so that
// the fsync acknowledging a group of writes only has their data to write.
//
// Why: appending to a file changes its size and allocates its blocks, and ext4's fdatasync then
// commits that metadata through its journal before it returns: a second and third disk round
// trip. Overwriting blocks that are already written within the file's size needs no journal
// commit. Measured on the development VM (a 36 KB write and fdatasync, 2000 times): 330-340 us
// and ~200 us of CPU (jbd2 included) per fsync when appending, 180-210 us and 105-135 us when
// overwriting. PostgreSQL zero-fills its WAL segments for the same reason; RocksDB's own
// recycle_log_file_num does it only once a WAL has become obsolete, i.e. never in a database's
// first 64 MB of writes.
//
// How: a thread of this file system writes zeros (through its own descriptor, into the page
// cache, then fdatasync) from the writer's end up to kAhead past it, whenever the writer has used
// half of that. A zero piece is written with the file's lock held and only past what the writer
// has appended, and the writer appends under the same lock, so zeros never overwrite data.
// Close truncates the file to what was appended. After a crash the WAL ends in zeros: RocksDB's
// log reader treats a zero header as preallocated space (record type 0 is reserved for it) and
// stops replaying there without reporting a corruption (tests/store_test.cc checks recovery).
//
// Only files named *.log are touched (RocksDB's WALs; its info log is LOG). Where the second
// descriptor cannot be opened, the file is written as it would be without this.

#include <rocksdb/file_system.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace keyledger {

class PrezeroedWalFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  static constexpr uint64_t kPiece = uint64_t{256} << 10;  // zeros written per lock hold
  static constexpr uint64_t kAhead = uint64_t{4} << 20;   // how far past the writer zeros reach

  explicit PrezeroedWalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target);
  ~PrezeroedWalFileSystem() override;

  static const char* kClassName() { return "keyledger.PrezeroedWalFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;

  // Starts writing the newest WAL's dirty pages to disk without waiting for them
  // (sync_file_range SYNC_FILE_RANGE_WRITE): an fsync that follows then finds them on their way
  // and only waits, and the caller can work meanwhile. Durability still comes from that fsync.
  // Does nothing before the first WAL is opened.
  void StartWalWriteback();

  // Zero bytes written (and fsynced) ahead of writers so far, for tests and benchmarks.
  uint64_t bytes_zeroed() const { return bytes_zeroed_.load(std::memory_order_relaxed); }

  struct WalState;  // shared by a WAL's file object and this file system's thread

 private:
  void Request(std::shared_ptr<WalState> wal);
  void Run();
  void ZeroAhead(WalState& wal);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<WalState>> pending_;
  std::shared_ptr<WalState> newest_;  // the WAL RocksDB writes to
  bool stopping_ = false;
  std::atomic<uint64_t> bytes_zeroed_{0};
  std::thread thread_;  // last: started once the members it uses exist

  friend class PrezeroedWalFile;
};

}  // namespace keyledger
