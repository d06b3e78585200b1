#include "events/appender.h"

#include <algorithm>

#include "core/log.h"
#include "events/codec.h"

namespace keyledger {

void BatchRows::Put(Cf cf, std::string_view key, std::string_view value) {
  rocksdb::Status s = batch_.Put(store_.cf(cf), rocksdb::Slice(key.data(), key.size()),
                                 rocksdb::Slice(value.data(), value.size()));
  (void)s;  // WriteBatch::Put fails only past its size limit, which we do not set.
}

void BatchRows::Delete(Cf cf, std::string_view key) {
  rocksdb::Status s = batch_.Delete(store_.cf(cf), rocksdb::Slice(key.data(), key.size()));
  (void)s;
}

void BatchRows::DeleteRange(Cf cf, std::string_view begin, std::string_view end) {
  rocksdb::Status s = batch_.DeleteRange(store_.cf(cf), rocksdb::Slice(begin.data(), begin.size()),
                                         rocksdb::Slice(end.data(), end.size()));
  (void)s;
}

Appender::Appender(EventStore& store, EventSink& sink, const Clock& clock, AppenderOptions options)
    : store_(store), sink_(sink), clock_(clock), options_(options) {}

Appender::~Appender() { Stop(); }

Status Appender::Start() {
  auto last = store_.LastEvent();
  if (!last.ok()) return last.status();
  std::lock_guard lock(mutex_);
  if (started_) return Status::Internal("appender started twice");
  head_seq_ = last->first;
  if (head_seq_ != 0) {
    auto event = DecodeStoredValue(last->second);
    if (!event.ok()) return Status::Internal("the last event cannot be read: " + event.status().message());
    head_hash_ = event->hash;
    head_ts_ = event->ts;
  }
  started_ = true;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void Appender::Submit(AppendRequest request) {
  std::function<void()> post;
  {
    std::lock_guard lock(mutex_);
    if (started_ && !stopping_) {
      queue_.push_back(std::move(request));
      if (executor_) {
        post = ScheduleDrainLocked();
      } else {
        wake_.notify_one();
      }
      request.done = nullptr;  // moved from; marks the request as taken
    }
  }
  if (post) post();
  if (request.done) request.done(Status::Unavailable("The service is shutting down."), 0, 0);
}

void Appender::UseExecutor(AppendExecutor executor) {
  std::function<void()> post;
  {
    std::lock_guard lock(mutex_);
    if (!started_ || stopping_ || executor_ || !executor) return;
    executor_ = std::move(executor);
    post = ScheduleDrainLocked();
  }
  wake_.notify_one();  // the appender thread becomes the syncer
  if (post) post();
}

void Appender::UseOwnThread() {
  {
    std::lock_guard lock(mutex_);
    executor_ = nullptr;
  }
  wake_.notify_one();
}

void Appender::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // From here on the appender thread finishes whatever the executor's turns left behind.
    executor_ = nullptr;
  }
  wake_.notify_one();
  std::lock_guard stop_lock(stop_mutex_);
  if (thread_.joinable()) thread_.join();
}

uint64_t Appender::head_seq() const {
  std::lock_guard lock(mutex_);
  return head_seq_;
}

Digest Appender::head_hash() const {
  std::lock_guard lock(mutex_);
  return head_hash_;
}

TimeMs Appender::head_ts() const {
  std::lock_guard lock(mutex_);
  return head_ts_;
}

std::function<void()> Appender::ScheduleDrainLocked() {
  if (!executor_ || drain_posted_ || writer_busy_) return {};
  if (queue_.empty() && ready_.empty()) return {};
  drain_posted_ = true;
  return [this, executor = executor_] { executor([this] { Drain(); }); };
}

void Appender::RunCompletions(std::vector<Completion>& completions) {
  for (Completion& c : completions) {
    if (!c.status.ok()) c.first_seq = c.last_seq = 0;
    c.request.done(c.status, c.first_seq, c.last_seq);
  }
}

void Appender::Run() {
  thread_id_.store(CurrentThreadId(), std::memory_order_release);
  std::unique_lock lock(mutex_);
  for (;;) {
    if (executor_) {
      RunSyncer(lock);  // until Stop() clears executor_
      continue;
    }
    // Thread mode; also after Stop() in inline mode, once the executor's last turn has ended.
    // Nor while an executor thread fsyncs a group taken from held_: what is held now follows it.
    idle_.wait(lock, [&] { return !writer_busy_ && !sync_in_flight_; });
    WaitSyncingWhenDue(lock, [&] {
      return executor_ || stopping_ || !queue_.empty() || !held_.empty() || !ready_.empty();
    });
    if (executor_) continue;
    if (!held_.empty() || !ready_.empty()) {
      // Left by inline mode: acknowledge in log order, fsyncing first what waits for it.
      std::vector<Completion> ready = std::move(ready_);
      std::vector<Completion> held = std::move(held_);
      ready_.clear();
      held_.clear();
      writer_busy_ = true;
      if (!held.empty()) SyncStartingLocked();
      lock.unlock();
      RunCompletions(ready);
      if (!held.empty()) {
        const Status synced = store_.SyncWal();
        for (Completion& c : held) {
          if (!synced.ok() && c.status.ok()) c.status = synced;
        }
        RunCompletions(held);
      }
      lock.lock();
      writer_busy_ = false;
      continue;
    }
    if (queue_.empty()) {  // stopping, and everything before Stop is done
      if (unsynced_since_) SyncUnsyncedLocked(lock);
      return;
    }
    std::deque<AppendRequest> batch = TakeBatchLocked();
    writer_busy_ = true;
    lock.unlock();
    std::vector<Completion> completions = ProcessBatch(batch, /*sync_now=*/true);
    RunCompletions(completions);
    lock.lock();
    writer_busy_ = false;
    // UseExecutor() may have come while this batch was written.
    if (std::function<void()> post = ScheduleDrainLocked()) {
      lock.unlock();
      post();
      lock.lock();
    }
  }
}

void Appender::RunSyncer(std::unique_lock<std::mutex>& lock) {
  const bool own_priority = options_.syncer_priority != BackgroundPriority::kNormal;
  if (own_priority && !SetThisThreadPriority(options_.syncer_priority)) {
    log::Debug("appender: the syncer's priority is unchanged");
  }
  while (executor_) {
    WaitForDueGroup(lock);
    if (!executor_) break;
    std::vector<Completion> group = TakeHeldGroupLocked();
    if (!group.empty()) {
      // Not staged here: at a syncer_priority below normal the steps would wait for the I/O
      // thread, and the fsync with them.
      SyncGroupLocked(lock, std::move(group), [this] { return SyncForAcknowledgements(); },
                      /*stage=*/false);
    }
    if (std::function<void()> post = ScheduleDrainLocked()) {
      lock.unlock();
      post();
      // Below normal priority, the next group is cut only once the I/O thread has nothing left
      // to run (the acknowledgements just handed over and the requests their answers bring):
      // the group is then as large as it gets, and the fsyncs as few.
      if (own_priority) std::this_thread::yield();
      lock.lock();
    }
  }
  // Writing again (thread mode): at the priority of the requests it writes for.
  if (own_priority) SetThisThreadPriority(BackgroundPriority::kNormal);
}

bool Appender::SyncHeldOnIdleThread() {
  std::function<void()> post;
  {
    std::unique_lock lock(mutex_);
    if (!executor_ || options_.idle_sync_fallback.count() == 0) return false;
    if (held_.empty() || sync_in_flight_) return false;
    std::vector<Completion> group = TakeHeldGroupLocked();
    // An executor thread runs at the requests' priority: no raising needed.
    if (!group.empty()) {
      SyncGroupLocked(lock, std::move(group), [this] { return store_.SyncWal(); }, /*stage=*/true);
    }
    post = ScheduleDrainLocked();
  }
  idle_.notify_all();  // Stop() may be waiting for the fsync to end
  if (post) post();
  return true;
}

std::vector<Appender::Completion> Appender::TakeHeldGroupLocked() {
  size_t leading = 0;
  while (leading < held_.size() && !held_[leading].needs_sync) ++leading;
  for (size_t i = 0; i < leading; ++i) ready_.push_back(std::move(held_[i]));
  held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(leading));
  std::vector<Completion> group = std::move(held_);
  held_.clear();
  return group;
}

void Appender::RunStages(std::vector<Completion>& group) {
  for (Completion& c : group) {
    if (c.request.stage && c.status.ok()) c.request.stage(c.first_seq, c.last_seq);
  }
}

template <class Sync>
void Appender::SyncGroupLocked(std::unique_lock<std::mutex>& lock, std::vector<Completion> group,
                               Sync sync, bool stage) {
  sync_in_flight_ = true;
  SyncStartingLocked();
  lock.unlock();
  const bool staged = stage && std::any_of(group.begin(), group.end(), [](const Completion& c) {
    return static_cast<bool>(c.request.stage);
  });
  if (staged) {
    store_.StartWalWriteback();  // the disk writes while the stage steps run
    RunStages(group);
  }
  const Status synced = sync();
  lock.lock();
  sync_in_flight_ = false;
  for (Completion& c : group) {
    if (!synced.ok() && c.status.ok()) c.status = synced;
    ready_.push_back(std::move(c));
  }
}

void Appender::WaitForDueGroup(std::unique_lock<std::mutex>& lock) {
  const auto fallback = options_.idle_sync_fallback;
  for (;;) {
    if (!executor_) return;
    const auto now = std::chrono::steady_clock::now();
    std::optional<std::chrono::steady_clock::time_point> wake_at;
    if (!held_.empty()) {
      if (!sync_in_flight_ &&
          (fallback.count() == 0 || !held_.front().needs_sync || now >= held_since_ + fallback)) {
        return;
      }
      // An idle executor thread is fsyncing (so there is a fallback): look again one later.
      wake_at = sync_in_flight_ ? now + fallback : held_since_ + fallback;
    }
    if (unsynced_since_) {
      const auto due = *unsynced_since_ + options_.wal_sync_interval;
      if (due <= now) {
        SyncUnsyncedLocked(lock);
        continue;
      }
      if (!wake_at || due < *wake_at) wake_at = due;
    }
    // A group held from now on needs a deadline this wait does not have: Drain then wakes it.
    syncer_watches_held_ = !held_.empty();
    if (wake_at) {
      wake_.wait_until(lock, *wake_at);
    } else {
      wake_.wait(lock);
    }
    syncer_watches_held_ = true;
  }
}

Status Appender::SyncForAcknowledgements() {
  if (options_.syncer_priority == BackgroundPriority::kNormal) return store_.SyncWal();
  const ScopedThisThreadPriority raised(BackgroundPriority::kNormal, options_.syncer_priority);
  return store_.SyncWal();
}

template <class HasWork>
void Appender::WaitSyncingWhenDue(std::unique_lock<std::mutex>& lock, HasWork has_work) {
  while (!has_work()) {
    if (!unsynced_since_) {  // never set without a wal_sync_interval
      wake_.wait(lock, [&] { return has_work() || unsynced_since_.has_value(); });
      continue;
    }
    if (wake_.wait_until(lock, *unsynced_since_ + options_.wal_sync_interval, has_work)) return;
    SyncUnsyncedLocked(lock);
  }
}

void Appender::SyncUnsyncedLocked(std::unique_lock<std::mutex>& lock) {
  // Not sync_in_flight_: no acknowledgement waits for this fsync, so none is held back for it.
  SyncStartingLocked();
  lock.unlock();
  (void)store_.SyncWal();  // a failure is the store's sticky error; nothing waits for it
  lock.lock();
}

std::deque<AppendRequest> Appender::TakeBatchLocked() {
  std::deque<AppendRequest> batch;
  if (queue_.size() <= options_.max_batch_requests) {
    batch.swap(queue_);
  } else {
    for (size_t i = 0; i < options_.max_batch_requests; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  return batch;
}

void Appender::Drain() {
  std::deque<AppendRequest> batch;
  std::vector<Completion> ready;
  {
    std::lock_guard lock(mutex_);
    drain_posted_ = false;
    if (!executor_ || writer_busy_) return;  // stopped: the appender thread finishes the rest
    writer_busy_ = true;
    ready.swap(ready_);
    batch = TakeBatchLocked();
  }
  // These precede this turn's batch in the log, so they are acknowledged first.
  RunCompletions(ready);
  std::vector<Completion> completions;
  if (!batch.empty()) completions = ProcessBatch(batch, /*sync_now=*/false);
  bool release_now = false, held = false;
  {
    std::lock_guard lock(mutex_);
    const bool needs_sync = std::any_of(completions.begin(), completions.end(),
                                        [](const Completion& c) { return c.needs_sync; });
    if (!needs_sync && held_.empty() && ready_.empty() && !sync_in_flight_) {
      release_now = true;
    } else if (!completions.empty()) {
      if (held_.empty()) held_since_ = std::chrono::steady_clock::now();
      for (Completion& c : completions) held_.push_back(std::move(c));
      // With idle_sync_fallback the syncer keeps its own deadline once it has one.
      held = options_.idle_sync_fallback.count() == 0 || !syncer_watches_held_;
    }
  }
  // Woken after the unlock: on a shared core the syncer would otherwise run at once, find the
  // mutex still held, and sleep on it again (a futex round trip and two context switches).
  if (held) wake_.notify_one();
  if (release_now) RunCompletions(completions);
  std::function<void()> post;
  {
    std::lock_guard lock(mutex_);
    writer_busy_ = false;
    post = ScheduleDrainLocked();
  }
  idle_.notify_all();
  if (post) post();
}

std::vector<Appender::Completion> Appender::ProcessBatch(std::deque<AppendRequest>& requests,
                                                         bool sync_now) {
  // Only this thread writes head_*; reading them here without the lock is safe.
  uint64_t seq = head_seq_;
  Digest prev = head_hash_;
  TimeMs last_ts = head_ts_;

  std::vector<Completion> completions;
  completions.reserve(requests.size());
  rocksdb::WriteBatch batch;
  BatchRows rows(batch, store_);
  bool sync = false;
  const Status sticky = store_.sticky_error();
  if (sticky.ok()) sink_.BeforeBatch(head_seq_);

  for (AppendRequest& request : requests) {
    Completion c{std::move(request), Status::Ok(), 0, 0, false};
    if (!sticky.ok()) {
      c.status = sticky;
      completions.push_back(std::move(c));
      continue;
    }
    const TimeMs now = std::max(clock_.Now(), last_ts);
    AppendContext context{now, rows};
    batch.SetSavePoint();
    auto events = c.request.prepare(context);
    if (!events.ok()) {
      // A refused request appends nothing: drop any rows its prepare put into the batch.
      rocksdb::Status rolled_back = batch.RollbackToSavePoint();
      (void)rolled_back;  // fails only without a save point, and one was just set
      c.status = events.status();
      completions.push_back(std::move(c));
      continue;
    }
    rocksdb::Status popped = batch.PopSavePoint();
    (void)popped;
    for (PendingEvent& pending : *events) {
      Event e;
      e.seq = ++seq;
      e.ts = now;
      e.workspace = std::move(pending.workspace);
      e.key_id = std::move(pending.key_id);
      e.actor = std::move(pending.actor);
      e.data = std::move(pending.data);
      e.prev_hash = prev;
      const std::string body = EncodeBody(e);
      e.hash = ChainHash(prev, body);
      prev = e.hash;
      const std::string key = EncodeSeq(e.seq);
      const std::string value = EncodeStoredValue(e.hash, body);
      rows.Put(Cf::kEvents, key, value);
      sink_.Apply(e, body, rows);
      if (c.first_seq == 0) c.first_seq = e.seq;
      c.last_seq = e.seq;
    }
    if (!events->empty()) {
      last_ts = now;
      sync = sync || c.request.durability == Durability::kSync;
    }
    completions.push_back(std::move(c));
  }

  if (seq != head_seq_) {
    const bool synced = sync && sync_now;
    Status written = store_.Write(batch, synced);
    if (written.ok()) {
      bool first_unsynced = false;
      {
        std::lock_guard lock(mutex_);
        head_seq_ = seq;
        head_hash_ = prev;
        head_ts_ = last_ts;
        if (synced) {
          unsynced_since_.reset();
        } else if (options_.wal_sync_interval.count() > 0 && !unsynced_since_) {
          unsynced_since_ = std::chrono::steady_clock::now();
          first_unsynced = true;
        }
      }
      // The appender thread sets its fsync's deadline (once per interval: a wake-up is not free).
      if (first_unsynced) wake_.notify_one();
    } else {
      for (Completion& c : completions) {
        if (c.status.ok()) c.status = written;
      }
    }
    if (written.ok()) sink_.AfterBatch(seq);
  } else if (batch.Count() > 0) {
    // Rows without events (none today) would still need writing.
    Status written = store_.Write(batch, sync && sync_now);
    if (!written.ok()) {
      for (Completion& c : completions) {
        if (c.status.ok()) c.status = written;
      }
    }
  }
  if (sync && !sync_now) {
    for (Completion& c : completions) c.needs_sync = true;
  }
  return completions;
}

}  // namespace keyledger
