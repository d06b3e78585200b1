#include "events/background_priority.h"

#include <algorithm>

#include "events/background_pacer.h"

namespace keyledger {

std::shared_ptr<rocksdb::RateLimiter> BackgroundPriorityListener::NewPacer() {
  return std::make_shared<BackgroundPacer>(kUnpacedBytesPerSecond, kPacerRefillMicros);
}

size_t BackgroundPriorityListener::DeepestBacklogLocked() const {
  size_t deepest = 0;
  for (const auto& [cf, memtables] : unflushed_) deepest = std::max(deepest, memtables.size());
  return deepest;
}

BackgroundPriority BackgroundPriorityListener::PriorityLocked() const {
  if (!stalled_.empty()) return BackgroundPriority::kNormal;
  return DeepestBacklogLocked() >= kBehindBacklog ? BackgroundPriority::kLow : BackgroundPriority::kIdle;
}

bool BackgroundPriorityListener::PacedLocked() const {
  return stalled_.empty() && DeepestBacklogLocked() == kBehindBacklog;
}

void BackgroundPriorityListener::EnlistThisThread() {
  const int tid = CurrentThreadId();
  std::lock_guard lock(mutex_);
  threads_.insert(tid);
  SetThreadPriority(tid, PriorityLocked());
}

template <class Change>
void BackgroundPriorityListener::Update(Change&& change) {
  std::lock_guard lock(mutex_);
  const BackgroundPriority before = PriorityLocked();
  const bool was_paced = PacedLocked();
  change();
  const BackgroundPriority now = PriorityLocked();
  const bool paced = PacedLocked();
  if (pacer_ && paced != was_paced) {
    pacer_->SetBytesPerSecond(paced ? kPacedBytesPerSecond : kUnpacedBytesPerSecond);
  }
  if (now == before) return;
  for (auto it = threads_.begin(); it != threads_.end();) {
    // A thread that is gone is forgotten (RocksDB's pools keep theirs for the process's life).
    it = SetThreadPriority(*it, now) || ThreadPriority(*it).has_value() ? std::next(it) : threads_.erase(it);
  }
}

void BackgroundPriorityListener::OnFlushBegin(rocksdb::DB*, const rocksdb::FlushJobInfo&) { EnlistThisThread(); }

void BackgroundPriorityListener::OnCompactionBegin(rocksdb::DB*, const rocksdb::CompactionJobInfo&) {
  EnlistThisThread();
}

void BackgroundPriorityListener::OnMemTableSealed(const rocksdb::MemTableInfo& info) {
  Update([&] { unflushed_[info.cf_name].insert(info.first_seqno); });
}

void BackgroundPriorityListener::OnFlushCompleted(rocksdb::DB*, const rocksdb::FlushJobInfo& info) {
  Update([&] {
    // A column family's memtables hold consecutive ranges of seqs, and a flush writes the oldest:
    // every sealed memtable that began at or before the file's largest seq is in it.
    std::set<uint64_t>& memtables = unflushed_[info.cf_name];
    memtables.erase(memtables.begin(), memtables.upper_bound(info.largest_seqno));
  });
}

void BackgroundPriorityListener::OnStallConditionsChanged(const rocksdb::WriteStallInfo& info) {
  Update([&] {
    if (info.condition.cur == rocksdb::WriteStallCondition::kNormal) {
      stalled_.erase(info.cf_name);
    } else {
      stalled_.insert(info.cf_name);
    }
  });
}

BackgroundPriority BackgroundPriorityListener::priority() const {
  std::lock_guard lock(mutex_);
  return PriorityLocked();
}

bool BackgroundPriorityListener::paced() const {
  std::lock_guard lock(mutex_);
  return PacedLocked();
}

}  // namespace keyledger
