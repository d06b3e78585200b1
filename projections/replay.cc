// ReplayInto (declared in checkpoint.h): a two-thread pipeline that balances itself. A reader
// thread walks the log in RocksDB and copies the stored rows into batches; the calling thread
// (the applier) decodes each batch, checks the chain (contiguous seqs, each prev_hash linking to
// the hash before it) and applies the events to the state in order. Decoding is shared: whenever
// the reader is ahead (every spare batch is queued), it decodes chunks of the newest queued batch
// instead of waiting, and the applier decodes whatever is left of the batch it takes. Reading,
// decoding and applying cost about a third each, and which of reading or applying is the heavier
// depends on the machine and the mix of events, so a fixed split would leave a core idle part of
// the time: with decoding all on the reader, it was the bottleneck, busy while the applier was
// idle nearly half the time (bench/README.md, twelfth session).

#include <pthread.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include "events/appender.h"
#include "events/codec.h"
#include "events/codec_fast_path.h"
#include "projections/checkpoint.h"

namespace keyledger {
namespace {

constexpr size_t kBatchEvents = 1024;
constexpr size_t kChunkEvents = 64;  // the unit of decoding either thread claims
// At most 8 queued (one being read, one being applied): enough slack that in a replay of 10 M
// events either thread waited for the other under 6% of the time (4 queued: up to 8%).
constexpr size_t kBatches = 10;

// Decodes a stored event into `out`, in place for the common case (codec_fast_path.h).
Status DecodeInto(std::string_view value, Event& out) {
  auto parts = SplitStoredValue(value);
  if (!parts.ok()) return parts.status();
  if (DecodeCanonicalKeyUsed(parts->body, out)) {
    out.hash = parts->hash;
    return Status::Ok();
  }
  auto event = DecodeBody(parts->body, parts->hash);
  if (!event.ok()) return event.status();
  out = std::move(event).value();
  return Status::Ok();
}

// Consecutive rows of the log as stored, and the events decoded from them. The reader fills it
// alone; once queued, its chunks are claimed (under the pipeline's lock) and decoded by either
// thread; the applier uses it once every chunk is decoded, then hands it back for reuse. Event
// slots are overwritten, not cleared, so their strings keep their buffers.
class Batch {
 public:
  // Before the batch is queued (so never while another thread decodes into it): slots are made
  // as rows come, so that a short replay (a point-in-time query) does not build them all.
  void Add(uint64_t seq, std::string_view value) {
    values_.append(value);
    ends_.push_back(values_.size());
    seqs_.push_back(seq);
    if (events_.size() < ends_.size()) events_.emplace_back();
  }
  size_t size() const { return ends_.size(); }
  bool full() const { return size() == kBatchEvents; }
  uint64_t seq(size_t i) const { return seqs_[i]; }
  const Event& event(size_t i) const { return events_[i]; }
  const Event* events() const { return events_.data(); }

  // A chunk no thread has claimed yet, or false. Called under the pipeline's lock, which keeps
  // the batch from being reused meanwhile; once claimed, the batch waits for its decoding.
  bool Claim(size_t& chunk) {
    if (claimed_ * kChunkEvents >= size()) return false;
    chunk = claimed_++;
    return true;
  }
  // Decodes the events of a claimed chunk, recording the first that cannot be decoded.
  void Decode(size_t chunk) {
    const size_t begin = chunk * kChunkEvents, end = std::min(size(), begin + kChunkEvents);
    for (size_t i = begin; i < end; ++i) {
      const size_t from = i == 0 ? 0 : ends_[i - 1];
      const std::string_view value(values_.data() + from, ends_[i] - from);
      if (Status s = DecodeInto(value, events_[i]); !s.ok()) RecordFailure(i, std::move(s));
    }
    if (decoded_.fetch_add(end - begin, std::memory_order_acq_rel) + (end - begin) == size()) {
      decoded_.notify_all();
    }
  }
  // Waits until every claimed chunk is decoded (REQUIRES: none is left unclaimed).
  void WaitDecoded() const {
    for (size_t n = decoded_.load(std::memory_order_acquire); n < size();
         n = decoded_.load(std::memory_order_acquire)) {
      decoded_.wait(n, std::memory_order_acquire);
    }
  }
  // The first event that could not be decoded (size() if none) and why.
  size_t first_failure() const { return first_failure_; }
  const Status& failure() const { return failure_; }

  void Reset() {
    values_.clear();
    ends_.clear();
    seqs_.clear();
    claimed_ = 0;
    decoded_.store(0, std::memory_order_relaxed);
    first_failure_ = std::numeric_limits<size_t>::max();
    failure_ = Status::Ok();
  }

 private:
  void RecordFailure(size_t i, Status why) {
    std::lock_guard lock(failure_mutex_);
    if (i < first_failure_) {
      first_failure_ = i;
      failure_ = std::move(why);
    }
  }

  std::string values_;         // the stored values back to back
  std::vector<size_t> ends_;   // where each value ends in values_
  std::vector<uint64_t> seqs_;  // each row's seq, from its key
  std::vector<Event> events_;
  size_t claimed_ = 0;         // chunks handed out; guarded by the pipeline's lock
  std::atomic<size_t> decoded_{0};
  std::mutex failure_mutex_;
  size_t first_failure_ = std::numeric_limits<size_t>::max();
  Status failure_;
};

// Owns the batches and moves them between the reader and the applier.
class Pipeline {
 public:
  Pipeline() {
    for (Batch& batch : batches_) spare_.push_back(&batch);
  }

  // For the reader: a spare batch to fill. While there is none (the applier is behind), decodes
  // chunks of the newest queued batch. Null once the applier has given up.
  Batch* SpareOrHelp() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (cancelled_) return nullptr;
      if (!spare_.empty()) {
        Batch* batch = spare_.back();
        spare_.pop_back();
        return batch;
      }
      Batch* help = nullptr;
      size_t chunk = 0;
      for (auto it = queued_.rbegin(); it != queued_.rend() && !help; ++it) {
        if ((*it)->Claim(chunk)) help = *it;
      }
      if (!help) {
        changed_.wait(lock);
        continue;
      }
      lock.unlock();
      help->Decode(chunk);
      lock.lock();
    }
  }
  void Push(Batch* batch) {
    std::lock_guard lock(mutex_);
    queued_.push_back(batch);
    changed_.notify_all();
  }
  // For the reader: nothing more will be pushed.
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

  // For the applier: the next batch in log order, decoded (helping with any chunk left), or null
  // once the reader closed the pipeline and everything queued was taken.
  Batch* NextDecoded() {
    Batch* batch = nullptr;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !queued_.empty() || closed_; });
      if (queued_.empty()) return nullptr;
      batch = queued_.front();
      queued_.pop_front();
    }
    for (;;) {
      size_t chunk = 0;
      {
        std::lock_guard lock(mutex_);
        if (!batch->Claim(chunk)) break;
      }
      batch->Decode(chunk);
    }
    batch->WaitDecoded();
    return batch;
  }
  void Recycle(Batch* batch) {
    batch->Reset();
    std::lock_guard lock(mutex_);
    spare_.push_back(batch);
    changed_.notify_all();
  }
  // For the applier: stop the reader.
  void Cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }

 private:
  std::array<Batch, kBatches> batches_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch*> queued_;
  std::vector<Batch*> spare_;
  bool closed_ = false;
  bool cancelled_ = false;
};

// The reader: copies the rows after `after` (up to `to_seq`, 0: all) into batches. Returns
// RocksDB's error, if any.
Status ReadRows(const EventStore& store, uint64_t after, uint64_t to_seq, Pipeline& pipeline) {
  Batch* batch = pipeline.SpareOrHelp();
  if (!batch) return Status::Ok();
  const std::string to = to_seq == 0 ? std::string() : EncodeSeq(to_seq + 1);
  Status scanned = store.ScanBulk(Cf::kEvents, EncodeSeq(after + 1), to,
                                  [&](std::string_view key, std::string_view value) {
    batch->Add(DecodeSeq(key), value);
    if (!batch->full()) return true;
    pipeline.Push(batch);
    batch = pipeline.SpareOrHelp();
    return batch != nullptr;
  });
  if (batch && batch->size() > 0) pipeline.Push(batch);
  return scanned;
}

// The applier's checks, in log order: how many of `batch`'s events may be applied, with why it
// must stop after them (ok for a stop at `until_ts`); `done` when the replay ends there.
struct ChainCheck {
  uint64_t expected = 0;
  std::optional<TimeMs> until_ts;
  std::optional<Digest> prev;
  bool done = false;
  Status failure;

  size_t Accept(const Batch& batch) {
    for (size_t i = 0; i < batch.size(); ++i) {
      const uint64_t seq = batch.seq(i);
      if (i == batch.first_failure()) {
        return Stop(i, Status::Internal("event " + std::to_string(seq) +
                                        " cannot be read: " + batch.failure().message()));
      }
      const Event& event = batch.event(i);
      if (event.seq != expected || seq != expected) {
        return Stop(i, Status::Internal("the log has a gap or disorder at seq " + std::to_string(expected)));
      }
      if (prev && event.prev_hash != *prev) {
        return Stop(i, Status::Internal("the hash chain breaks at seq " + std::to_string(expected)));
      }
      if (until_ts && event.ts > *until_ts) return Stop(i, Status::Ok());
      prev = event.hash;
      ++expected;
    }
    return batch.size();
  }
  size_t Stop(size_t i, Status why) {
    done = true;
    failure = std::move(why);
    return i;
  }
};

}  // namespace

Status ReplayInto(const EventStore& store, LedgerState& state, uint64_t to_seq,
                  std::optional<TimeMs> until_ts) {
  const uint64_t after = state.applied_seq();
  if (to_seq != 0 && to_seq <= after) return Status::Ok();
  ChainCheck check;
  check.expected = after + 1;
  check.until_ts = until_ts;
  if (after > 0) {
    auto row = store.Get(Cf::kEvents, EncodeSeq(after));
    if (!row.ok()) return row.status();
    if (row->has_value()) {
      auto parts = SplitStoredValue(**row);
      if (parts.ok()) check.prev = parts->hash;
    }
  } else {
    check.prev = Digest{};
  }

  Pipeline pipeline;
  Status read_status;
  std::thread reader([&] {
    pthread_setname_np(pthread_self(), "replay-reader");
    read_status = ReadRows(store, after, to_seq, pipeline);
    pipeline.Close();
  });
  struct JoinOnExit {
    Pipeline& pipeline;
    std::thread& thread;
    void Join() {
      pipeline.Cancel();  // unblocks the reader if the applier leaves early
      if (thread.joinable()) thread.join();
    }
    ~JoinOnExit() { Join(); }
  } join{pipeline, reader};

  while (Batch* batch = pipeline.NextDecoded()) {
    state.ApplyBatch(batch->events(), check.Accept(*batch));
    if (check.done) break;
    pipeline.Recycle(batch);
  }
  join.Join();
  // A stop in the log (a break, or `until_ts`) comes before whatever the reader met after it.
  return check.done ? check.failure : read_status;
}

}  // namespace keyledger
