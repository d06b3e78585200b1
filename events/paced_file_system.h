#pragma once
// A RocksDB file system that deletes a file in pieces a background thread can rest between.
//
// Why: deleting a file evicts its pages from the page cache, in one system call. For a 64 MiB
// WAL or table file still cached that is 10-25 ms of kernel CPU, which this kernel (no
// preemption) gives up only at a tick: a flush thread purging the WAL it has just made obsolete
// held the core for 3-6 ms at a time, several times in a row, while every connection of the I/O
// thread sharing it waited (perf sched, bench/README.md tenth session). Here DeleteFile first
// drops the file's cached pages kPiece at a time (POSIX_FADV_DONTNEED: the file's contents and
// every reader of it are untouched, only the cache forgets it), resting between pieces as
// BackgroundPacer does, and then deletes the file, which has little left to evict.
//
// RocksDB deletes obsolete files from its background threads, and from the thread opening or
// closing the database.

#include <rocksdb/file_system.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace keyledger {

class PacedFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  static constexpr uint64_t kPiece = uint64_t{1} << 20;

  explicit PacedFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target)
      : rocksdb::FileSystemWrapper(target) {}

  static const char* kClassName() { return "keyledger.PacedFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;

  // Pieces dropped from the page cache so far, for tests.
  uint64_t pieces_dropped() const { return pieces_dropped_.load(std::memory_order_relaxed); }

 private:
  void DropCachedPages(const std::string& fname);

  std::atomic<uint64_t> pieces_dropped_{0};
};

}  // namespace keyledger
