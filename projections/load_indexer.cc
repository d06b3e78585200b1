#include "projections/load_indexer.h"

#include <pthread.h>

#include <stdexcept>
#include <utility>

#include "core/memory.h"

namespace keyledger {

LoadIndexer::LoadIndexer(RecordIndex& by_id, RecordIndex& by_digest, DeadlineQueue& deadlines, size_t records,
                         std::vector<std::span<std::byte>> prefault)
    : by_id_(by_id), by_digest_(by_digest), deadlines_(deadlines), records_(records), prefault_(std::move(prefault)) {
  filling_.reserve(kBatch);
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void LoadIndexer::HandOver() {
  std::vector<Entry> next;
  {
    std::lock_guard lock(mutex_);
    full_.push_back(std::move(filling_));
    if (!spare_.empty()) {
      next = std::move(spare_.back());
      spare_.pop_back();
    }
    changed_.notify_all();
  }
  next.clear();
  next.reserve(kBatch);
  filling_ = std::move(next);
}

void LoadIndexer::Finish() {
  if (!filling_.empty()) HandOver();
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
    changed_.notify_all();
  }
  thread_.join();
}

void LoadIndexer::Run(const std::stop_token& stop) {
  pthread_setname_np(pthread_self(), "load-indexer");
  for (std::span<std::byte> memory : prefault_) {
    if (stop.stop_requested()) return;
    PrefaultForWriting(memory.data(), memory.size());
  }
  // Reserved for every record, neither index grows, so no insert needs an earlier record's hash
  // (which would mean reading the key records the decoder is still appending to).
  by_id_.Reserve(records_);
  by_digest_.Reserve(records_);
  std::vector<DeadlineQueue::Entry> live;
  live.reserve(records_);  // pages past the active keys' entries are never touched
  uint32_t record = 0;
  auto no_growth = [](uint32_t) -> uint64_t { throw std::logic_error("a reserved index grew"); };
  std::unique_lock lock(mutex_);
  while (true) {
    if (!changed_.wait(lock, stop, [&] { return !full_.empty() || finished_; })) return;  // stopped
    if (full_.empty()) break;  // finished, and everything handed over is indexed
    std::vector<Entry> batch = std::move(full_.front());
    full_.pop_front();
    lock.unlock();
    for (const Entry& e : batch) {
      by_id_.Insert(e.id_hash, record, no_growth);
      by_digest_.Insert(e.digest_hash, record, no_growth);
      if (e.deadline != 0) live.push_back({e.deadline, record});
      ++record;
    }
    lock.lock();
    spare_.push_back(std::move(batch));
  }
  lock.unlock();
  deadlines_.Assign(std::move(live));
}

}  // namespace keyledger
