#pragma once
// The rate limiter RocksDB's flushes and compactions go through (DBOptions::rate_limiter): it paces
// their writes (a GenericRateLimiter at a rate BackgroundPriorityListener sets) and, at every read
// or write they make, rests the calling thread for kRest once it has used kSlice of CPU since its
// last rest.
//
// Why: this kernel (HZ=250, no preemption) takes the core from a thread that does not sleep only
// at a tick, or when a thread that wakes up deserves it more. An I/O thread under saturating load
// never sleeps, so a flush or compaction sharing its core held it for a whole 4 ms tick at a time
// whenever it ran unpaced (catching up, or at idle priority when the scheduler picked it), and
// every connection waited that long (bench/README.md, tenth session). Resting after kSlice bounds
// that wait; waking from the rest (a timer, not a tick) lets the scheduler give a thread that has
// had less than its share the core back at once, so the rests chop its CPU into pieces without
// taking its share away.
//
// Only RocksDB's background threads call it: RocksDB charges no WAL write or user read to a rate
// limiter unless WriteOptions/ReadOptions name a rate_limiter_priority, and keyledger names none.
//
// Thread-safe.

#include <rocksdb/rate_limiter.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace keyledger {

class BackgroundPacer final : public rocksdb::RateLimiter {
 public:
  static constexpr std::chrono::microseconds kSlice{500};
  static constexpr std::chrono::microseconds kRest{50};

  BackgroundPacer(int64_t bytes_per_second, int64_t refill_micros);

  // Writes wait for the pace; reads and writes rest when their thread's slice is used up.
  void Request(int64_t bytes, rocksdb::Env::IOPriority pri, rocksdb::Statistics* stats,
               OpType op_type) override;
  void Request(int64_t bytes, rocksdb::Env::IOPriority pri, rocksdb::Statistics* stats) override;

  void SetBytesPerSecond(int64_t bytes_per_second) override { writes_->SetBytesPerSecond(bytes_per_second); }
  int64_t GetBytesPerSecond() const override { return writes_->GetBytesPerSecond(); }
  int64_t GetSingleBurstBytes() const override { return writes_->GetSingleBurstBytes(); }
  // Writes only: reads are never paced.
  int64_t GetTotalBytesThrough(rocksdb::Env::IOPriority pri) const override {
    return writes_->GetTotalBytesThrough(pri);
  }
  int64_t GetTotalRequests(rocksdb::Env::IOPriority pri) const override { return writes_->GetTotalRequests(pri); }
  rocksdb::Status GetTotalPendingRequests(int64_t* pending, rocksdb::Env::IOPriority pri) const override {
    return writes_->GetTotalPendingRequests(pending, pri);
  }

  // Rests the calling thread for kRest if it has used kSlice of CPU since its last rest. True if
  // it rested. For other long work of background threads (PacedFileSystem).
  static bool RestIfSliceUsed();

  // Rests taken in Request so far, by all threads.
  uint64_t rests() const { return rests_.load(std::memory_order_relaxed); }

 private:
  const std::unique_ptr<rocksdb::RateLimiter> writes_;
  std::atomic<uint64_t> rests_{0};
};

}  // namespace keyledger
