#include "events/background_pacer.h"

#include <thread>

#include "core/thread_priority.h"

namespace keyledger {

BackgroundPacer::BackgroundPacer(int64_t bytes_per_second, int64_t refill_micros)
    // kAllIo: RocksDB then calls Request for a compaction's reads too, and a compaction that
    // merges much and writes little rests as well.
    : rocksdb::RateLimiter(Mode::kAllIo),
      writes_(rocksdb::NewGenericRateLimiter(bytes_per_second, refill_micros)) {}

void BackgroundPacer::Request(int64_t bytes, rocksdb::Env::IOPriority pri, rocksdb::Statistics* stats,
                              OpType op_type) {
  if (op_type == OpType::kWrite) writes_->Request(bytes, pri, stats, op_type);
  if (RestIfSliceUsed()) rests_.fetch_add(1, std::memory_order_relaxed);
}

void BackgroundPacer::Request(int64_t bytes, rocksdb::Env::IOPriority pri, rocksdb::Statistics* stats) {
  Request(bytes, pri, stats, OpType::kWrite);
}

bool BackgroundPacer::RestIfSliceUsed() {
  // CPU time, not wall time: time spent waiting for the pace or the disk is not the core's.
  thread_local std::chrono::nanoseconds slice_start = ThisThreadCpuTime();
  if (ThisThreadCpuTime() - slice_start < kSlice) return false;
  std::this_thread::sleep_for(kRest);
  slice_start = ThisThreadCpuTime();
  return true;
}

}  // namespace keyledger
