#include "events/prezeroed_wal_file_system.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "core/log.h"

namespace keyledger {

namespace {

const char kZeros[PrezeroedWalFileSystem::kPiece] = {};

}  // namespace

struct PrezeroedWalFileSystem::WalState {
  ~WalState() {
    if (fd >= 0) ::close(fd);
  }
  std::mutex mutex;  // held by the writer while it appends, and while zeros are written
  int fd = -1;       // this file system's own descriptor of the WAL
  uint64_t appended = 0;  // the writer's end
  uint64_t zeroed = 0;    // zeros written and fsynced up to here
  bool requested = false;  // queued for (or being zero-filled by) the thread
  bool closed = false;     // no zeros any more: the file is being (or has been) closed
  bool failed = false;     // a zero write failed (a full disk, say): no zeros any more
};

// The WAL as RocksDB writes it: appends go to the target under the WalState's lock, and ask for
// more zeros once the writer has used half of those ahead of it.
class PrezeroedWalFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  using WalState = PrezeroedWalFileSystem::WalState;

  PrezeroedWalFile(std::unique_ptr<rocksdb::FSWritableFile> target, PrezeroedWalFileSystem& fs,
                   std::shared_ptr<WalState> wal)
      : FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), wal_(std::move(wal)) {}

  ~PrezeroedWalFile() override {
    std::lock_guard lock(wal_->mutex);
    wal_->closed = true;  // not closed through Close: the zeros stay, as after a crash
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    return Written(std::nullopt, data.size(), [&] { return target()->Append(data, options, dbg); });
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    return Written(std::nullopt, data.size(),
                   [&] { return target()->Append(data, options, info, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    return Written(offset, data.size(),
                   [&] { return target()->PositionedAppend(data, offset, options, dbg); });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    return Written(offset, data.size(),
                   [&] { return target()->PositionedAppend(data, offset, options, info, dbg); });
  }

  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    std::lock_guard lock(wal_->mutex);
    rocksdb::IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      wal_->appended = size;
      wal_->zeroed = std::min(wal_->zeroed, size);
    }
    return s;
  }

  // Gives the zeros past the writer's end back, then closes.
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    uint64_t end = 0;
    bool zeros_past_end = false;
    {
      std::lock_guard lock(wal_->mutex);
      wal_->closed = true;
      end = wal_->appended;
      zeros_past_end = wal_->zeroed > end || wal_->requested;
    }
    if (zeros_past_end) {
      rocksdb::IOStatus s = target()->Truncate(end, options, dbg);
      if (!s.ok()) return s;
    }
    return target()->Close(options, dbg);
  }

 private:
  // Writes `size` bytes at `offset` (by default the writer's end) with `write` under the lock;
  // then asks for zeros if due.
  template <class Write>
  rocksdb::IOStatus Written(std::optional<uint64_t> offset, size_t size, Write write) {
    bool request = false;
    rocksdb::IOStatus s;
    {
      std::lock_guard lock(wal_->mutex);
      s = write();
      if (s.ok()) {
        wal_->appended = std::max(wal_->appended, offset.value_or(wal_->appended) + size);
        if (!wal_->requested && !wal_->closed && !wal_->failed &&
            wal_->zeroed < wal_->appended + PrezeroedWalFileSystem::kAhead / 2) {
          wal_->requested = request = true;
        }
      }
    }
    if (request) fs_.Request(wal_);
    return s;
  }

  PrezeroedWalFileSystem& fs_;
  std::shared_ptr<WalState> wal_;
};

PrezeroedWalFileSystem::PrezeroedWalFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target)
    : rocksdb::FileSystemWrapper(target), thread_([this] { Run(); }) {}

PrezeroedWalFileSystem::~PrezeroedWalFileSystem() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

rocksdb::IOStatus PrezeroedWalFileSystem::NewWritableFile(const std::string& fname,
                                                          const rocksdb::FileOptions& options,
                                                          std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                          rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewWritableFile(fname, options, result, dbg);
  if (!s.ok() || !fname.ends_with(".log") || options.use_direct_writes) return s;
  const int fd = ::open(fname.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return s;  // written as it would be without this file system
  auto wal = std::make_shared<WalState>();
  wal->fd = fd;
  wal->requested = true;
  *result = std::make_unique<PrezeroedWalFile>(std::move(*result), *this, wal);
  {
    std::lock_guard lock(mutex_);
    newest_ = wal;
  }
  Request(std::move(wal));
  return s;
}

void PrezeroedWalFileSystem::StartWalWriteback() {
  std::shared_ptr<WalState> wal;
  {
    std::lock_guard lock(mutex_);
    wal = newest_;
  }
  // Our own descriptor reaches the same pages as RocksDB's. A failure only means the fsync
  // writes them itself.
  if (wal) (void)::sync_file_range(wal->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

void PrezeroedWalFileSystem::Request(std::shared_ptr<WalState> wal) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    pending_.push_back(std::move(wal));
  }
  wake_.notify_one();
}

void PrezeroedWalFileSystem::Run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (stopping_) return;
    std::shared_ptr<WalState> wal = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    ZeroAhead(*wal);
    wal.reset();
    lock.lock();
  }
}

void PrezeroedWalFileSystem::ZeroAhead(WalState& wal) {
  // Rounds until the zeros reach far enough past the writer's end: it may have gone on meanwhile.
  for (;;) {
    uint64_t offset = 0, goal = 0;
    {
      std::lock_guard lock(wal.mutex);
      if (wal.closed || wal.failed || wal.zeroed >= wal.appended + kAhead / 2) {
        wal.requested = false;
        return;
      }
      offset = std::max(wal.zeroed, wal.appended);
      goal = wal.appended + kAhead;
    }
    bool ok = true;
    uint64_t written = 0;
    while (ok && offset < goal) {
      std::lock_guard lock(wal.mutex);
      if (wal.closed) break;
      // Only past the writer's end, and the writer appends under this lock: never over its data.
      offset = std::max(offset, wal.appended);
      ok = ::pwrite(wal.fd, kZeros, kPiece, static_cast<off_t>(offset)) == static_cast<ssize_t>(kPiece);
      if (ok) {
        offset += kPiece;
        written += kPiece;
      }
    }
    // Commits the file's new size and its blocks: the writer's fsyncs there have only data left.
    // Nothing written means the file was closed meanwhile: no fsync for it.
    ok = ok && (written == 0 || ::fdatasync(wal.fd) == 0);
    bytes_zeroed_.fetch_add(ok ? written : 0, std::memory_order_relaxed);
    std::lock_guard lock(wal.mutex);
    if (ok) {
      wal.zeroed = std::max(wal.zeroed, offset);
    } else if (!wal.closed) {
      wal.failed = true;
      log::Warn("writing zeros ahead of the write-ahead log failed; its fsyncs now also commit its growth");
    }
  }
}

}  // namespace keyledger
