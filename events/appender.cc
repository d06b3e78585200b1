#include "events/appender.h"

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
  {
    std::lock_guard lock(mutex_);
    if (started_ && !stopping_) {
      queue_.push_back(std::move(request));
      wake_.notify_one();
      return;
    }
  }
  request.done(Status::Unavailable("The service is shutting down."), 0, 0);
}

void Appender::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
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

void Appender::Run() {
  std::deque<AppendRequest> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything before Stop is done
      if (queue_.size() <= options_.max_batch_requests) {
        batch.swap(queue_);
      } else {
        for (size_t i = 0; i < options_.max_batch_requests; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
    ProcessBatch(batch);
    batch.clear();
  }
}

void Appender::ProcessBatch(std::deque<AppendRequest>& requests) {
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
    Completion c{std::move(request), Status::Ok(), 0, 0};
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
    Status written = store_.Write(batch, sync);
    if (written.ok()) {
      std::lock_guard lock(mutex_);
      head_seq_ = seq;
      head_hash_ = prev;
      head_ts_ = last_ts;
    } else {
      for (Completion& c : completions) {
        if (c.status.ok()) c.status = written;
      }
    }
    if (written.ok()) sink_.AfterBatch(seq);
  } else if (batch.Count() > 0) {
    // Rows without events (none today) would still need writing.
    Status written = store_.Write(batch, sync);
    if (!written.ok()) {
      for (Completion& c : completions) {
        if (c.status.ok()) c.status = written;
      }
    }
  }
  for (Completion& c : completions) {
    if (!c.status.ok()) c.first_seq = c.last_seq = 0;
    c.request.done(c.status, c.first_seq, c.last_seq);
  }
}

}  // namespace keyledger
