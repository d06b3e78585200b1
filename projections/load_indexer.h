#pragma once
// Builds a loading state's id and digest indexes and its deadline heap on a thread of its own,
// from what the decoder hands over as it decodes each key record: at a million keys those inserts
// (a cache miss apiece) had followed the decoding, a fifth of a start-up, with the second core
// idle once the checkpoint was read.
//
// The decoder calls Add() for records 0, 1, 2, ... in order and Finish() after the last; only then
// may the indexes and the heap be read. Handed over in batches of kBatch records under a mutex.
// Destroying an unfinished indexer (a decode failure, an exception) stops its thread; the indexes
// are then incomplete and must not be used.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <stop_token>
#include <thread>
#include <vector>

#include "projections/compact_storage.h"
#include "projections/deadline_queue.h"

namespace keyledger {

class LoadIndexer {
 public:
  // Reserves both indexes for `records` (on its thread); Add() may be called that many times.
  // First, on its thread, makes `prefault` resident: memory the decoder is about to fill, whose
  // page faults (a tenth of its time) are thus taken off it.
  LoadIndexer(RecordIndex& by_id, RecordIndex& by_digest, DeadlineQueue& deadlines, size_t records,
              std::vector<std::span<std::byte>> prefault);
  LoadIndexer(const LoadIndexer&) = delete;
  LoadIndexer& operator=(const LoadIndexer&) = delete;
  ~LoadIndexer() = default;  // the jthread asks its thread to stop, then joins it

  // The next record: the hashes its indexes use, and its deadline if it is active and ends by
  // time (else 0). REQUIRES: fewer calls than `records`.
  void Add(uint64_t id_hash, uint64_t digest_hash, TimeMs deadline) {
    filling_.push_back({id_hash, digest_hash, deadline});
    if (filling_.size() == kBatch) HandOver();
  }
  // Waits until every record added is indexed.
  void Finish();

  static constexpr size_t kBatch = 4096;

 private:
  struct Entry {
    uint64_t id_hash;
    uint64_t digest_hash;
    TimeMs deadline;
  };
  void HandOver();
  void Run(const std::stop_token& stop);

  RecordIndex& by_id_;
  RecordIndex& by_digest_;
  DeadlineQueue& deadlines_;
  const size_t records_;
  const std::vector<std::span<std::byte>> prefault_;
  std::vector<Entry> filling_;  // the decoder's

  std::mutex mutex_;
  std::condition_variable_any changed_;
  std::deque<std::vector<Entry>> full_;  // guarded by mutex_
  std::vector<std::vector<Entry>> spare_;  // guarded by mutex_: emptied batches, for reuse
  bool finished_ = false;  // guarded by mutex_: no more batches will come
  std::jthread thread_;  // last: starts once the members above exist
};

}  // namespace keyledger
