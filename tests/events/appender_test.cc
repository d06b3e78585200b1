#include <boost/test/unit_test.hpp>

#include "events/appender.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/sha256.h"
#include "core/status.h"
#include "events/codec.h"
#include "events/event.h"
#include "events/store.h"
#include "tests/events/manual_executor.h"
#include "tests/events/temp_dir.h"

namespace keyledger {
namespace {

using Prepare = std::function<Result<std::vector<PendingEvent>>(AppendContext&)>;

constexpr TimeMs kStart = 1795428000000;  // 2026-11-23T10:00:00Z

struct Applied {
  Event event;
  std::string body;
};

// Records what the appender hands it; optionally adds one by_key row per event (key_id ‖ 0x00 ‖
// seq → body), the way the audit indexes do.
class RecordingSink : public EventSink {
 public:
  void Apply(const Event& event, std::string_view body, BatchRows& rows) override {
    std::lock_guard lock(mutex_);
    applied_.push_back({event, std::string(body)});
    if (add_rows_) rows.Put(Cf::kByKey, RowKey(event.key_id, event.seq), body);
  }
  void AfterBatch(uint64_t head_seq) override {
    std::lock_guard lock(mutex_);
    batch_heads_.push_back(head_seq);
  }

  static std::string RowKey(std::string_view key_id, uint64_t seq) {
    return std::string(key_id) + '\0' + EncodeSeq(seq);
  }
  void set_add_rows(bool add) { add_rows_ = add; }
  std::vector<Applied> applied() const {
    std::lock_guard lock(mutex_);
    return applied_;
  }
  size_t applied_count() const {
    std::lock_guard lock(mutex_);
    return applied_.size();
  }
  std::vector<uint64_t> batch_heads() const {
    std::lock_guard lock(mutex_);
    return batch_heads_;
  }

 private:
  std::atomic<bool> add_rows_{false};
  mutable std::mutex mutex_;
  std::vector<Applied> applied_;
  std::vector<uint64_t> batch_heads_;
};

struct Outcome {
  Status status;
  uint64_t first = 0;
  uint64_t last = 0;
  std::thread::id thread;
};

// Submits a request and returns the future of its `done`.
std::future<Outcome> Submit(Appender& appender, Prepare prepare,
                            Durability durability = Durability::kSync) {
  auto promise = std::make_shared<std::promise<Outcome>>();
  std::future<Outcome> future = promise->get_future();
  AppendRequest request;
  request.durability = durability;
  request.prepare = std::move(prepare);
  request.done = [promise](const Status& s, uint64_t first, uint64_t last) {
    promise->set_value({s, first, last, std::this_thread::get_id()});
  };
  appender.Submit(std::move(request));
  return future;
}

PendingEvent Use(std::string key_id) {
  return {"ws_acme", std::move(key_id), "",
          KeyUsed{UseOutcome::kValid, "invoices:read", "10.0.0.1"}};
}

std::vector<PendingEvent> Uses(std::string_view tag, size_t n) {
  std::vector<PendingEvent> events;
  for (size_t i = 0; i < n; ++i) events.push_back(Use(std::string(tag) + "-" + std::to_string(i)));
  return events;
}

Prepare Returning(std::vector<PendingEvent> events) {
  return [events](AppendContext&) -> Result<std::vector<PendingEvent>> { return events; };
}

Prepare Refusing(Status status) {
  return [status](AppendContext&) -> Result<std::vector<PendingEvent>> { return status; };
}

// Blocks the appender thread inside a prepare until Open(), so that requests submitted meanwhile
// queue up and are taken as one batch. Opens itself when destroyed so the thread never hangs.
class Gate {
 public:
  Gate() : state_(std::make_shared<State>()) {
    entered_ = state_->entered.get_future();
    state_->released = state_->release.get_future().share();
  }
  ~Gate() { Open(); }

  Prepare Blocker(std::vector<PendingEvent> events = {}) {
    return [state = state_, events](AppendContext&) -> Result<std::vector<PendingEvent>> {
      state->entered.set_value();
      state->released.wait();
      return events;
    };
  }
  void WaitEntered() { entered_.wait(); }
  void Open() {
    if (!opened_.exchange(true)) state_->release.set_value();
  }

 private:
  struct State {
    std::promise<void> entered;
    std::promise<void> release;
    std::shared_future<void> released;
  };
  std::shared_ptr<State> state_;
  std::future<void> entered_;
  std::atomic<bool> opened_{false};
};

struct Stored {
  uint64_t key_seq;
  std::string value;
};

std::vector<Stored> ReadLog(const EventStore& store) {
  std::vector<Stored> log;
  Status s = store.Scan(Cf::kEvents, "", "", [&](std::string_view k, std::string_view v) {
    log.push_back({DecodeSeq(k), std::string(v)});
    return true;
  });
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  return log;
}

std::vector<uint64_t> LogSeqs(const EventStore& store) {
  std::vector<uint64_t> seqs;
  for (const Stored& row : ReadLog(store)) seqs.push_back(row.key_seq);
  return seqs;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

// The value under `key`, "<absent>", or "<error: …>". No Boost.Test macros: also called from
// `done` on the appender thread, and Boost.Test assertions are for the main thread only.
std::string ValueAt(const EventStore& store, Cf which, std::string_view key) {
  auto r = store.Get(which, key);
  if (!r.ok()) return "<error: " + r.status().message() + ">";
  return r->has_value() ? **r : std::string("<absent>");
}

// Walks the stored log: seqs 1..n without gaps, each prev_hash the hash before it (zero first),
// each hash recomputed from the stored body. Returns the decoded events.
std::vector<Event> CheckChain(const EventStore& store) {
  std::vector<Event> events;
  Digest prev{};
  TimeMs last_ts = 0;
  uint64_t expected = 1;
  for (const Stored& row : ReadLog(store)) {
    BOOST_TEST_CONTEXT("seq " << row.key_seq) {
      BOOST_TEST(row.key_seq == expected);
      auto parts = SplitStoredValue(row.value);
      BOOST_TEST_REQUIRE(parts.ok());
      auto event = DecodeBody(parts->body, parts->hash);
      BOOST_TEST_REQUIRE(event.ok(), event.status().message());
      BOOST_TEST(event->seq == row.key_seq);
      BOOST_TEST(ToHex(event->prev_hash) == ToHex(prev));
      BOOST_TEST(ToHex(parts->hash) == ToHex(Sha256(AsBytes(event->prev_hash), parts->body)));
      BOOST_TEST(EncodeBody(*event) == parts->body);
      BOOST_TEST(event->ts >= last_ts);
      prev = parts->hash;
      last_ts = event->ts;
      ++expected;
      events.push_back(std::move(*event));
    }
  }
  return events;
}

struct AppenderFixture {
  AppenderFixture() { StartAppender(); }
  ~AppenderFixture() { appender.reset(); }

  void StartAppenderSyncingWithin(std::chrono::milliseconds wal_sync_interval) {
    AppenderOptions options;
    options.wal_sync_interval = wal_sync_interval;
    StartAppender(options);
  }
  void StartAppender(AppenderOptions options = {}) {
    appender.reset();
    appender = std::make_unique<Appender>(*store, sink, clock, options);
    Status s = appender->Start();
    BOOST_TEST_REQUIRE(s.ok(), s.message());
  }
  void ReopenStore() {
    appender.reset();
    store.reset();
    auto reopened = EventStore::Open(tmp.Sub("db"), StoreOptions{});
    BOOST_TEST_REQUIRE(reopened.ok(), reopened.status().message());
    store = std::move(*reopened);
  }
  Outcome Append(std::vector<PendingEvent> events, Durability durability = Durability::kSync) {
    return Submit(*appender, Returning(std::move(events)), durability).get();
  }

  TempDir tmp;
  std::unique_ptr<EventStore> store = [this] {
    auto opened = EventStore::Open(tmp.Sub("db"), StoreOptions{});
    BOOST_TEST_REQUIRE(opened.ok(), opened.status().message());
    return std::move(*opened);
  }();
  ManualClock clock{kStart};
  RecordingSink sink;
  // For the inline-mode tests. Declared before the appender so that it outlives it: the appender's
  // thread may still hand it work until the appender has stopped.
  ManualExecutor executor;
  std::unique_ptr<Appender> appender;
};

bool Ready(const std::future<Outcome>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

bool IsUnavailable(const Status& s) { return s.code() == StatusCode::kUnavailable; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(AppenderTest, AppenderFixture)

BOOST_AUTO_TEST_CASE(SeqsStartAtOneAndAreContiguous) {
  BOOST_TEST(appender->head_seq() == 0u);
  const Outcome a = Append(Uses("a", 1));
  BOOST_TEST(a.status.ok());
  BOOST_TEST((a.first == 1u && a.last == 1u));
  const Outcome b = Append(Uses("b", 3), Durability::kWal);
  BOOST_TEST(b.status.ok());
  BOOST_TEST((b.first == 2u && b.last == 4u));
  const Outcome none = Append({});
  BOOST_TEST(none.status.ok());
  BOOST_TEST((none.first == 0u && none.last == 0u));
  const Outcome c = Append(Uses("c", 2));
  BOOST_TEST((c.first == 5u && c.last == 6u));

  BOOST_TEST(appender->head_seq() == 6u);
  BOOST_TEST(LogSeqs(*store) == Range(1, 6));
  const std::vector<Event> log = CheckChain(*store);
  BOOST_TEST_REQUIRE(log.size() == 6u);
  // Each request's events keep their order inside the request.
  BOOST_TEST(log[1].key_id == "b-0");
  BOOST_TEST(log[3].key_id == "b-2");
  BOOST_TEST(log[5].key_id == "c-1");
  std::vector<uint64_t> applied;
  for (const Applied& a : sink.applied()) applied.push_back(a.event.seq);
  BOOST_TEST(applied == Range(1, 6));
}

BOOST_AUTO_TEST_CASE(HashChainLinksEveryEventAndRecomputesFromStoredBytes) {
  for (int i = 0; i < 5; ++i) {  // 1 + 2 + 3 + 1 + 2 = 9 events
    BOOST_TEST(Append(Uses("k" + std::to_string(i), i % 3 + 1)).status.ok());
  }
  std::vector<std::future<Outcome>> pending;  // some in shared batches too
  for (int i = 0; i < 20; ++i) pending.push_back(Submit(*appender, Returning(Uses("p", 2))));
  for (auto& f : pending) BOOST_TEST(f.get().status.ok());

  const std::vector<Event> log = CheckChain(*store);
  BOOST_TEST_REQUIRE(log.size() == 9u + 20u * 2u);
  BOOST_TEST(ToHex(log.front().prev_hash) == ToHex(Digest{}));
  BOOST_TEST(ToHex(appender->head_hash()) == ToHex(log.back().hash));
  BOOST_TEST(appender->head_seq() == log.size());

  // The sink saw exactly what was stored: same seq, hash, prev_hash and body bytes.
  const std::vector<Applied> applied = sink.applied();
  const std::vector<Stored> stored = ReadLog(*store);
  BOOST_TEST_REQUIRE(applied.size() == stored.size());
  for (size_t i = 0; i < applied.size(); ++i) {
    BOOST_TEST(applied[i].event.seq == stored[i].key_seq);
    BOOST_TEST(stored[i].value == EncodeStoredValue(applied[i].event.hash, applied[i].body));
    BOOST_TEST(ToHex(applied[i].event.prev_hash) == ToHex(log[i].prev_hash));
    BOOST_TEST(ToHex(applied[i].event.hash) == ToHex(ChainHash(log[i].prev_hash, applied[i].body)));
  }
}

BOOST_AUTO_TEST_CASE(TimestampsNeverDecreaseWhenTheClockGoesBack) {
  std::vector<TimeMs> seen_now;
  auto record_now = [&](std::vector<PendingEvent> events) {
    return [&seen_now, events](AppendContext& c) -> Result<std::vector<PendingEvent>> {
      seen_now.push_back(c.now);
      return events;
    };
  };
  BOOST_TEST(Submit(*appender, record_now(Uses("a", 2))).get().status.ok());
  clock.Set(kStart - kHourMs);
  BOOST_TEST(Submit(*appender, record_now(Uses("b", 1))).get().status.ok());
  clock.Set(kStart + 5);
  BOOST_TEST(Submit(*appender, record_now(Uses("c", 1))).get().status.ok());
  clock.Set(0);
  BOOST_TEST(Submit(*appender, record_now(Uses("d", 2))).get().status.ok());
  clock.Set(kStart + 9);
  BOOST_TEST(Submit(*appender, record_now(Uses("e", 1))).get().status.ok());

  std::vector<TimeMs> ts;
  for (const Event& e : CheckChain(*store)) ts.push_back(e.ts);
  BOOST_TEST(ts == (std::vector<TimeMs>{kStart, kStart, kStart, kStart + 5, kStart + 5, kStart + 5,
                                        kStart + 9}));
  BOOST_TEST(seen_now == (std::vector<TimeMs>{kStart, kStart, kStart + 5, kStart + 5, kStart + 9}));
  BOOST_TEST(appender->head_ts() == kStart + 9);
}

BOOST_AUTO_TEST_CASE(RefusedRequestAppendsNothingWhileItsBatchSucceeds) {
  Gate gate;
  auto blocker = Submit(*appender, gate.Blocker());
  gate.WaitEntered();
  std::atomic<int> refused_prepares{0};
  auto a = Submit(*appender, Returning(Uses("a", 1)));
  auto b = Submit(*appender, [&](AppendContext&) -> Result<std::vector<PendingEvent>> {
    ++refused_prepares;
    return Status::Conflict("Only an active key can be revoked.");
  });
  auto c = Submit(*appender, Returning(Uses("c", 2)));
  auto d = Submit(*appender, Refusing(Status::Invalid("bad", "name")));
  gate.Open();

  const Outcome ra = a.get(), rb = b.get(), rc = c.get(), rd = d.get();
  BOOST_TEST(blocker.get().status.ok());
  BOOST_TEST(ra.status.ok());
  BOOST_TEST((ra.first == 1u && ra.last == 1u));
  BOOST_TEST((rb.status.code() == StatusCode::kConflict));
  BOOST_TEST(rb.status.message() == "Only an active key can be revoked.");
  BOOST_TEST((rb.first == 0u && rb.last == 0u));
  BOOST_TEST(refused_prepares.load() == 1);
  BOOST_TEST(rc.status.ok());
  BOOST_TEST((rc.first == 2u && rc.last == 3u));  // b took no seq
  BOOST_TEST((rd.status.code() == StatusCode::kInvalidArgument));
  BOOST_TEST(rd.status.field() == "name");
  BOOST_TEST((rd.first == 0u && rd.last == 0u));

  BOOST_TEST(sink.batch_heads() == (std::vector<uint64_t>{3}));  // a, b, c, d were one batch
  BOOST_TEST(LogSeqs(*store) == Range(1, 3));
  std::vector<std::string> keys;
  for (const Event& e : CheckChain(*store)) keys.push_back(e.key_id);
  BOOST_TEST(keys == (std::vector<std::string>{"a-0", "c-0", "c-1"}));
  BOOST_TEST(sink.applied_count() == 3u);
}

// A refused request "appends nothing": rows it put into the batch before refusing are not
// written either, while rows of the accepted requests in the same batch are.
BOOST_AUTO_TEST_CASE(RowsOfARefusedPrepareAreNotWritten) {
  Gate gate;
  auto blocker = Submit(*appender, gate.Blocker());
  gate.WaitEntered();
  auto accepted = Submit(*appender, [](AppendContext& c) -> Result<std::vector<PendingEvent>> {
    c.rows.Put(Cf::kMeta, "accepted", "1");
    return Uses("a", 1);
  });
  auto refused = Submit(*appender, [](AppendContext& c) -> Result<std::vector<PendingEvent>> {
    c.rows.Put(Cf::kMeta, "refused", "1");
    c.rows.Delete(Cf::kMeta, "accepted");
    return Status::Conflict("no");
  });
  auto after = Submit(*appender, [](AppendContext& c) -> Result<std::vector<PendingEvent>> {
    c.rows.Put(Cf::kMeta, "after", "1");
    return Uses("b", 1);
  });
  gate.Open();
  BOOST_TEST(accepted.get().status.ok());
  BOOST_TEST((refused.get().status.code() == StatusCode::kConflict));
  BOOST_TEST(after.get().status.ok());
  BOOST_TEST(ValueAt(*store, Cf::kMeta, "accepted") == "1");
  BOOST_TEST(ValueAt(*store, Cf::kMeta, "after") == "1");
  BOOST_TEST(ValueAt(*store, Cf::kMeta, "refused") == "<absent>");
  BOOST_TEST(LogSeqs(*store) == Range(1, 2));
}

BOOST_AUTO_TEST_CASE(RequestWithNoEventsIsDoneWithOkAndNoSeqs) {
  const Outcome none = Append({});
  BOOST_TEST(none.status.ok());
  BOOST_TEST(none.first == 0u);
  BOOST_TEST(none.last == 0u);
  BOOST_TEST(appender->head_seq() == 0u);
  BOOST_TEST(ReadLog(*store).empty());
  BOOST_TEST(sink.applied_count() == 0u);

  const Outcome one = Append(Uses("a", 1));
  BOOST_TEST((one.first == 1u && one.last == 1u));
  const Outcome again = Append({}, Durability::kWal);
  BOOST_TEST(again.status.ok());
  BOOST_TEST((again.first == 0u && again.last == 0u));
  BOOST_TEST(appender->head_seq() == 1u);
  BOOST_TEST(LogSeqs(*store) == Range(1, 1));
}

BOOST_AUTO_TEST_CASE(ManyProducersGetUniqueContiguousSeqs) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 200;
  auto events_for = [](int i) -> size_t { return i % 5 == 0 ? 2 : 1; };
  size_t total_events = 0;
  for (int i = 0; i < kPerThread; ++i) total_events += events_for(i);
  total_events *= kThreads;

  std::vector<std::vector<Outcome>> results(kThreads, std::vector<Outcome>(kPerThread));
  std::latch start(kThreads);
  std::latch all_done(kThreads * kPerThread);
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        AppendRequest request;
        request.durability = (i + t) % 2 == 0 ? Durability::kSync : Durability::kWal;
        request.prepare =
            Returning(Uses("t" + std::to_string(t) + "-" + std::to_string(i), events_for(i)));
        request.done = [&, t, i](const Status& s, uint64_t first, uint64_t last) {
          results[t][i] = {s, first, last, std::this_thread::get_id()};
          all_done.count_down();
        };
        appender->Submit(std::move(request));
      }
    });
  }
  for (auto& p : producers) p.join();
  all_done.wait();

  std::vector<uint64_t> seqs;
  std::map<uint64_t, std::string> expected_key;  // seq → key id its request asked for
  for (int t = 0; t < kThreads; ++t) {
    uint64_t previous_last = 0;
    for (int i = 0; i < kPerThread; ++i) {
      const Outcome& r = results[t][i];
      BOOST_TEST_REQUIRE(r.status.ok(), r.status.message());
      BOOST_TEST_REQUIRE(r.last - r.first + 1 == events_for(i));
      // One producer's requests are sequenced in the order it submitted them.
      BOOST_TEST(r.first > previous_last);
      previous_last = r.last;
      for (uint64_t s = r.first; s <= r.last; ++s) {
        seqs.push_back(s);
        expected_key[s] =
            "t" + std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(s - r.first);
      }
    }
  }
  std::sort(seqs.begin(), seqs.end());
  BOOST_TEST(seqs == Range(1, total_events));

  const std::vector<Event> log = CheckChain(*store);
  BOOST_TEST_REQUIRE(log.size() == total_events);
  size_t mismatched = 0;
  for (const Event& e : log) mismatched += e.key_id != expected_key[e.seq];
  BOOST_TEST(mismatched == 0u);
  BOOST_TEST(appender->head_seq() == total_events);

  const std::vector<uint64_t> heads = sink.batch_heads();
  BOOST_TEST_REQUIRE(!heads.empty());
  BOOST_TEST(std::is_sorted(heads.begin(), heads.end()));
  BOOST_TEST((std::adjacent_find(heads.begin(), heads.end()) == heads.end()));
  BOOST_TEST(heads.back() == total_events);
  BOOST_TEST(heads.size() <= static_cast<size_t>(kThreads * kPerThread));
  BOOST_TEST_MESSAGE(kThreads * kPerThread << " requests were written in " << heads.size()
                                           << " batches");
}

BOOST_AUTO_TEST_CASE(BurstSubmittedWhileTheWriterIsBusyIsOneBatch) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  Gate gate;
  auto blocker = Submit(*appender, gate.Blocker(Uses("gate", 1)));
  gate.WaitEntered();

  std::mutex mutex;
  std::vector<std::future<Outcome>> futures;
  std::vector<std::string> done_checks;  // problems seen inside done, on the appender thread
  std::vector<uint64_t> done_order;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        AppendRequest request;
        request.durability = i % 2 ? Durability::kWal : Durability::kSync;
        request.prepare = Returning(Uses("t" + std::to_string(t), 1));
        auto promise = std::make_shared<std::promise<Outcome>>();
        {
          std::lock_guard lock(mutex);
          futures.push_back(promise->get_future());
        }
        request.done = [&, promise](const Status& s, uint64_t first, uint64_t last) {
          // The whole batch is written before any done runs.
          const std::string last_of_batch =
              ValueAt(*store, Cf::kEvents, EncodeSeq(1 + kThreads * kPerThread));
          {
            std::lock_guard lock(mutex);
            if (last_of_batch == "<absent>")
              done_checks.push_back("done before the batch was written");
            done_order.push_back(first);
          }
          promise->set_value({s, first, last, std::this_thread::get_id()});
        };
        appender->Submit(std::move(request));
      }
    });
  }
  for (auto& p : producers) p.join();
  gate.Open();

  BOOST_TEST(blocker.get().status.ok());
  for (auto& f : futures) BOOST_TEST(f.get().status.ok());
  BOOST_TEST(done_checks.empty());
  BOOST_TEST(done_order == Range(2, 1 + kThreads * kPerThread));  // done in log order
  // The gate's own batch, then the whole burst in one.
  BOOST_TEST(sink.batch_heads() == (std::vector<uint64_t>{1, 1 + kThreads * kPerThread}));
  BOOST_TEST(CheckChain(*store).size() == 1u + kThreads * kPerThread);
}

BOOST_AUTO_TEST_CASE(MaxBatchRequestsSplitsABurst) {
  AppenderOptions options;
  options.max_batch_requests = 10;
  StartAppender(options);
  Gate gate;
  auto blocker = Submit(*appender, gate.Blocker(Uses("gate", 1)));
  gate.WaitEntered();
  std::vector<std::future<Outcome>> futures;
  for (int i = 0; i < 25; ++i) futures.push_back(Submit(*appender, Returning(Uses("b", 1))));
  gate.Open();
  for (auto& f : futures) BOOST_TEST(f.get().status.ok());
  BOOST_TEST(sink.batch_heads() == (std::vector<uint64_t>{1, 11, 21, 26}));
  BOOST_TEST(LogSeqs(*store) == Range(1, 26));
}

BOOST_AUTO_TEST_CASE(PrepareRunsOnOneThreadInSubmissionOrder) {
  constexpr size_t kRequests = 300;
  struct Seen {
    size_t index;
    std::thread::id thread;
    size_t applied_before;  // events the sink had seen when this prepare ran
  };
  std::vector<Seen> seen;  // written by the appender thread only
  std::vector<std::future<Outcome>> futures;
  for (size_t i = 0; i < kRequests; ++i) {
    futures.push_back(
        Submit(*appender, [&, i](AppendContext&) -> Result<std::vector<PendingEvent>> {
          seen.push_back({i, std::this_thread::get_id(), sink.applied_count()});
          return Uses("r" + std::to_string(i), 1);
        }));
  }
  std::vector<Outcome> outcomes;
  for (auto& f : futures) outcomes.push_back(f.get());

  BOOST_TEST_REQUIRE(seen.size() == kRequests);
  const std::thread::id writer = seen.front().thread;
  BOOST_TEST((writer != std::this_thread::get_id()));
  for (size_t i = 0; i < kRequests; ++i) {
    BOOST_TEST(seen[i].index == i);
    BOOST_TEST((seen[i].thread == writer));
    // Every earlier event reached the sink before this request was prepared.
    BOOST_TEST(seen[i].applied_before == i);
    BOOST_TEST(outcomes[i].first == i + 1);
    BOOST_TEST((outcomes[i].thread == writer));
  }
}

BOOST_AUTO_TEST_CASE(RestartContinuesTheChain) {
  for (int i = 0; i < 3; ++i) {
    clock.Advance(kSecondMs);
    BOOST_TEST(Append(Uses("before", 2)).status.ok());
  }
  const Digest head_hash = appender->head_hash();
  const TimeMs head_ts = appender->head_ts();
  BOOST_TEST(head_ts == kStart + 3 * kSecondMs);
  appender->Stop();
  ReopenStore();

  clock.Set(kStart - kDayMs);  // the new process's clock is behind the log
  StartAppender();
  BOOST_TEST(appender->head_seq() == 6u);
  BOOST_TEST(ToHex(appender->head_hash()) == ToHex(head_hash));
  BOOST_TEST(appender->head_ts() == head_ts);

  const Outcome next = Append(Uses("after", 2));
  BOOST_TEST(next.status.ok());
  BOOST_TEST((next.first == 7u && next.last == 8u));
  const std::vector<Event> log = CheckChain(*store);
  BOOST_TEST_REQUIRE(log.size() == 8u);
  BOOST_TEST(ToHex(log[6].prev_hash) == ToHex(head_hash));
  BOOST_TEST(log[6].ts == head_ts);
  BOOST_TEST(log[7].key_id == "after-1");
}

BOOST_AUTO_TEST_CASE(StartRefusesAnUnreadableHeadAndASecondStart) {
  BOOST_TEST(!appender->Start().ok());
  BOOST_TEST(Append(Uses("a", 1)).status.ok());  // still running
  appender.reset();

  rocksdb::WriteBatch batch;
  // Well-formed header, body that is not an event.
  BOOST_TEST_REQUIRE(
      batch.Put(store->cf(Cf::kEvents), EncodeSeq(2), EncodeStoredValue(Digest{}, R"({"seq":2})"))
          .ok());
  BOOST_TEST_REQUIRE(store->Write(batch, false).ok());
  Appender broken(*store, sink, clock);
  const Status s = broken.Start();
  BOOST_TEST(!s.ok());
  BOOST_TEST((s.code() == StatusCode::kInternal));
  // Not started: requests are refused, not queued forever.
  auto refused = Submit(broken, Returning(Uses("x", 1)));
  BOOST_TEST((refused.wait_for(std::chrono::seconds(0)) == std::future_status::ready));
  BOOST_TEST(IsUnavailable(refused.get().status));
}

BOOST_AUTO_TEST_CASE(WriteFailureFailsItsBatchAndEveryLaterRequest) {
  sink.set_add_rows(true);
  BOOST_TEST(Append(Uses("ok", 1)).status.ok());

  Gate gate;
  auto blocker = Submit(*appender, gate.Blocker());  // no events: nothing to write
  gate.WaitEntered();
  auto a = Submit(*appender, Returning(Uses("a", 2)));
  auto b = Submit(*appender, Returning(Uses("b", 1)), Durability::kWal);
  auto none = Submit(*appender, Returning({}));
  store->InjectWriteFailureForTesting(true);
  gate.Open();
  BOOST_TEST(blocker.get().status.ok());
  for (auto* f : {&a, &b, &none}) {
    const Outcome r = f->get();
    BOOST_TEST(IsUnavailable(r.status), r.status.message());
    BOOST_TEST((r.first == 0u && r.last == 0u));
  }
  BOOST_TEST(!store->sticky_error().ok());

  store->InjectWriteFailureForTesting(false);
  const size_t applied_before = sink.applied_count();
  bool later_prepared = false;
  auto later = Submit(*appender, [&](AppendContext&) -> Result<std::vector<PendingEvent>> {
    later_prepared = true;
    return Uses("later", 1);
  });
  const Outcome rl = later.get();
  BOOST_TEST(IsUnavailable(rl.status));
  BOOST_TEST((rl.first == 0u && rl.last == 0u));
  BOOST_TEST(!later_prepared);
  BOOST_TEST(sink.applied_count() == applied_before);
  BOOST_TEST(IsUnavailable(Append(Uses("again", 1), Durability::kWal).status));

  // Nothing after the failure reached the store: no events, no sink rows.
  BOOST_TEST(LogSeqs(*store) == Range(1, 1));
  BOOST_TEST(ValueAt(*store, Cf::kByKey, RecordingSink::RowKey("ok-0", 1)) != "<absent>");
  for (uint64_t seq = 2; seq <= 4; ++seq) {
    for (const char* key : {"a-0", "a-1", "b-0"}) {
      BOOST_TEST(ValueAt(*store, Cf::kByKey, RecordingSink::RowKey(key, seq)) == "<absent>");
    }
  }
  BOOST_TEST(appender->head_seq() == 1u);
  BOOST_TEST(sink.batch_heads() == (std::vector<uint64_t>{1}));
}

BOOST_AUTO_TEST_CASE(SinkRowsAreWrittenAtomicallyWithTheEvents) {
  sink.set_add_rows(true);
  std::vector<std::string> seen_in_done;
  auto promise = std::make_shared<std::promise<Outcome>>();
  AppendRequest request;
  request.prepare = [](AppendContext& c) -> Result<std::vector<PendingEvent>> {
    c.rows.Put(Cf::kMeta, "from_prepare", "p");
    return Uses("k", 3);
  };
  request.done = [&, promise](const Status& s, uint64_t first, uint64_t last) {
    // Visible as soon as done runs, on the appender thread.
    for (uint64_t seq = first; seq <= last; ++seq) {
      seen_in_done.push_back(ValueAt(
          *store, Cf::kByKey, RecordingSink::RowKey("k-" + std::to_string(seq - first), seq)));
    }
    seen_in_done.push_back(ValueAt(*store, Cf::kMeta, "from_prepare"));
    promise->set_value({s, first, last, std::this_thread::get_id()});
  };
  auto future = promise->get_future();
  appender->Submit(std::move(request));
  const Outcome r = future.get();
  BOOST_TEST_REQUIRE(r.status.ok());
  BOOST_TEST((r.first == 1u && r.last == 3u));

  const std::vector<Stored> log = ReadLog(*store);
  BOOST_TEST_REQUIRE(log.size() == 3u);
  BOOST_TEST_REQUIRE(seen_in_done.size() == 4u);
  for (size_t i = 0; i < 3; ++i) {
    auto parts = SplitStoredValue(log[i].value);
    BOOST_TEST_REQUIRE(parts.ok());
    BOOST_TEST(seen_in_done[i] == parts->body);  // the row holds the body the sink was handed
  }
  BOOST_TEST(seen_in_done[3] == "p");
}

BOOST_AUTO_TEST_CASE(StopCompletesEveryRequestSubmittedBeforeIt) {
  Gate gate;
  auto blocker = Submit(*appender, gate.Blocker(Uses("gate", 1)));
  gate.WaitEntered();
  std::vector<std::future<Outcome>> before;
  for (int i = 0; i < 50; ++i) {
    before.push_back(Submit(*appender, Returning(Uses("b" + std::to_string(i), 1)),
                            i % 2 ? Durability::kWal : Durability::kSync));
  }
  std::thread stopper([&] { appender->Stop(); });
  // Wait until Stop has taken effect: a refused Submit is answered at once, while an accepted one
  // cannot finish before the gate opens. Accepted probes were submitted before Stop too.
  std::future<Outcome> refused_probe;
  for (;;) {
    auto probe = Submit(*appender, Returning(Uses("probe", 1)));
    if (probe.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      refused_probe = std::move(probe);
      break;
    }
    before.push_back(std::move(probe));
    std::this_thread::yield();
  }
  gate.Open();
  stopper.join();

  const Outcome refused = refused_probe.get();
  BOOST_TEST(IsUnavailable(refused.status));
  BOOST_TEST((refused.first == 0u && refused.last == 0u));
  BOOST_TEST(blocker.get().status.ok());
  uint64_t expected = 2;
  for (auto& f : before) {
    const Outcome r = f.get();
    BOOST_TEST(r.status.ok(), r.status.message());
    BOOST_TEST(r.first == expected);
    ++expected;
  }
  BOOST_TEST(LogSeqs(*store) == Range(1, before.size() + 1));

  // After Stop: refused at once, nothing written; Stop is idempotent.
  auto after = Submit(*appender, Returning(Uses("after", 1)));
  BOOST_TEST((after.wait_for(std::chrono::seconds(0)) == std::future_status::ready));
  BOOST_TEST(IsUnavailable(after.get().status));
  appender->Stop();
  BOOST_TEST(LogSeqs(*store) == Range(1, before.size() + 1));
  BOOST_TEST(appender->head_seq() == before.size() + 1);
}

BOOST_AUTO_TEST_CASE(SubmitBeforeStartIsRefusedAndStopWithoutStartReturns) {
  appender.reset();
  Appender idle(*store, sink, clock);
  auto early = Submit(idle, Returning(Uses("early", 1)));
  BOOST_TEST((early.wait_for(std::chrono::seconds(0)) == std::future_status::ready));
  BOOST_TEST(IsUnavailable(early.get().status));
  idle.Stop();
  idle.Stop();
  BOOST_TEST(ReadLog(*store).empty());
}

BOOST_AUTO_TEST_CASE(DestructorFinishesQueuedRequests) {
  Gate gate;
  auto blocker = Submit(*appender, gate.Blocker());
  gate.WaitEntered();
  std::vector<std::future<Outcome>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(Submit(*appender, Returning(Uses("q", 1))));
  std::thread destroyer([&] { appender.reset(); });
  gate.Open();
  destroyer.join();
  for (auto& f : futures) BOOST_TEST(f.get().status.ok());
  BOOST_TEST(LogSeqs(*store) == Range(1, 20));
}

BOOST_AUTO_TEST_CASE(InlineModeWritesAndAnswersOnTheExecutorInOneBatch) {
  appender->UseExecutor(executor.executor());
  std::vector<std::future<Outcome>> futures;
  for (int i = 0; i < 5; ++i) {
    futures.push_back(Submit(*appender, Returning(Uses("u" + std::to_string(i), 1)), Durability::kWal));
  }
  // Nothing is written until the executor runs the one turn that was handed to it.
  BOOST_TEST(executor.pending() == 1u);
  for (auto& f : futures) BOOST_TEST(!Ready(f));
  BOOST_TEST(ReadLog(*store).empty());
  executor.RunPending();
  for (size_t i = 0; i < futures.size(); ++i) {
    BOOST_TEST_REQUIRE(Ready(futures[i]));
    const Outcome o = futures[i].get();
    BOOST_TEST(o.status.ok());
    BOOST_TEST((o.first == i + 1 && o.last == i + 1));
    BOOST_TEST((o.thread == std::this_thread::get_id()));  // answered on the executor's thread
  }
  BOOST_TEST(sink.batch_heads() == std::vector<uint64_t>{5});
  BOOST_TEST(LogSeqs(*store) == Range(1, 5));
  BOOST_TEST(appender->head_seq() == 5u);
}

BOOST_AUTO_TEST_CASE(InlineModeAcknowledgesSyncedBatchesAfterTheFsyncAndInLogOrder) {
  appender->UseExecutor(executor.executor());
  std::mutex order_mutex;
  std::vector<std::string> order;
  auto submit = [&](std::string name, Durability durability) {
    auto promise = std::make_shared<std::promise<Outcome>>();
    auto future = promise->get_future();
    AppendRequest request;
    request.durability = durability;
    request.prepare = Returning(Uses(name, 1));
    request.done = [&, name, promise](const Status& s, uint64_t first, uint64_t last) {
      {
        std::lock_guard lock(order_mutex);
        order.push_back(name);
      }
      promise->set_value({s, first, last, std::this_thread::get_id()});
    };
    appender->Submit(std::move(request));
    return future;
  };
  auto created = submit("created", Durability::kSync);
  executor.RunPending();  // written to the WAL; its acknowledgement waits for the fsync
  auto used = submit("used", Durability::kWal);
  // The use comes later in the log, so it must not be acknowledged before the lifecycle event,
  // whatever the order in which the fsync and the executor's turns happen.
  executor.RunUntil([&] { return Ready(created) && Ready(used); });
  BOOST_TEST((order == std::vector<std::string>{"created", "used"}));
  const Outcome c = created.get();
  const Outcome u = used.get();
  BOOST_TEST(c.status.ok());
  BOOST_TEST(u.status.ok());
  BOOST_TEST((c.first == 1u && u.first == 2u));
  BOOST_TEST((c.thread == std::this_thread::get_id()));  // done runs in a writer turn
  BOOST_TEST(LogSeqs(*store) == Range(1, 2));
}

BOOST_AUTO_TEST_CASE(WalOnlyBatchesAreFsyncedWithinTheIntervalAndAcknowledgedBeforeIt) {
  StartAppenderSyncingWithin(std::chrono::milliseconds(5));
  appender->UseExecutor(executor.executor());
  const uint64_t fsyncs_before = store->wal_fsyncs();
  auto used = Submit(*appender, Returning(Uses("u", 1)), Durability::kWal);
  executor.RunPending();
  BOOST_TEST_REQUIRE(Ready(used));  // acknowledged once written: no fsync waited for
  BOOST_TEST(used.get().status.ok());
  // The appender thread fsyncs it on its own, with nothing more submitted.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->wal_fsyncs() == fsyncs_before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  BOOST_TEST(store->wal_fsyncs() == fsyncs_before + 1);
}

BOOST_AUTO_TEST_CASE(WithoutAnIntervalWalOnlyBatchesWaitForALaterFsync) {
  const uint64_t fsyncs_before = store->wal_fsyncs();
  BOOST_TEST(Append(Uses("u", 2), Durability::kWal).status.ok());
  appender->Stop();
  BOOST_TEST(store->wal_fsyncs() == fsyncs_before);
}

BOOST_AUTO_TEST_CASE(StoppingFsyncsWhatNoFsyncCoversYet) {
  StartAppenderSyncingWithin(std::chrono::hours(1));
  const uint64_t fsyncs_before = store->wal_fsyncs();
  BOOST_TEST(Append(Uses("u", 2), Durability::kWal).status.ok());
  appender->Stop();
  BOOST_TEST(store->wal_fsyncs() == fsyncs_before + 1);
}

BOOST_AUTO_TEST_CASE(AFsyncedBatchCoversTheUnsyncedOnesBeforeIt) {
  StartAppenderSyncingWithin(std::chrono::hours(1));
  const uint64_t fsyncs_before = store->wal_fsyncs();
  BOOST_TEST(Append(Uses("u", 2), Durability::kWal).status.ok());
  BOOST_TEST(Append(Uses("c", 1), Durability::kSync).status.ok());
  appender->Stop();  // nothing left to fsync
  BOOST_TEST(store->wal_fsyncs() == fsyncs_before + 1);
}

BOOST_AUTO_TEST_CASE(InlineModeManyProducersKeepAContiguousChain) {
  appender->UseExecutor(executor.executor());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::future<Outcome>> futures(kThreads * kPerThread);
  std::vector<std::thread> producers;
  std::latch submitted(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        futures[t * kPerThread + i] =
            Submit(*appender, Returning(Uses("p" + std::to_string(t), 1)),
                   (i + t) % 5 == 0 ? Durability::kSync : Durability::kWal);
      }
      submitted.count_down();
    });
  }
  submitted.wait();
  for (auto& p : producers) p.join();
  executor.RunUntil([&] {
    return std::all_of(futures.begin(), futures.end(), [](const auto& f) { return Ready(f); });
  });
  for (auto& f : futures) BOOST_TEST(f.get().status.ok());
  const std::vector<Event> log = CheckChain(*store);
  BOOST_TEST_REQUIRE(log.size() == static_cast<size_t>(kThreads * kPerThread));
  BOOST_TEST(ToHex(appender->head_hash()) == ToHex(log.back().hash));
}

BOOST_AUTO_TEST_CASE(StopInInlineModeFinishesWhatTheExecutorNeverRan) {
  // The executor is never run, like an io_context that has stopped.
  appender->UseExecutor(executor.executor());
  std::vector<std::future<Outcome>> futures;
  for (int i = 0; i < 10; ++i) {
    futures.push_back(Submit(*appender, Returning(Uses("s", 1)),
                             i % 2 ? Durability::kSync : Durability::kWal));
  }
  appender->Stop();
  for (auto& f : futures) {
    BOOST_TEST_REQUIRE(Ready(f));
    BOOST_TEST(f.get().status.ok());
  }
  BOOST_TEST(LogSeqs(*store) == Range(1, 10));
  // The turn handed out before Stop finds nothing to do when it finally runs.
  executor.RunPending();
  BOOST_TEST(IsUnavailable(Submit(*appender, Returning(Uses("late", 1))).get().status));
}

// The appender thread takes syncer_priority only while it is the syncer: it writes for the
// requests at their priority, before inline mode and after it.
BOOST_AUTO_TEST_CASE(SyncerPriorityHoldsOnlyWhileTheAppenderThreadOnlyFsyncs) {
  AppenderOptions options;
  options.syncer_priority = BackgroundPriority::kBatch;
  StartAppender(options);
  BOOST_TEST_REQUIRE(Append(Uses("first", 1)).status.ok());  // written by the appender thread
  const int tid = appender->thread_id();
  BOOST_TEST_REQUIRE(tid != 0);
  BOOST_TEST((ThreadPriority(tid) == BackgroundPriority::kNormal));

  appender->UseExecutor(executor.executor());
  // Acknowledged only after the syncer's fsync, which it runs once it has taken its priority.
  auto synced = Submit(*appender, Returning(Uses("synced", 1)), Durability::kSync);
  executor.RunUntil([&] { return Ready(synced); });
  BOOST_TEST(synced.get().status.ok());
  BOOST_TEST((ThreadPriority(tid) == BackgroundPriority::kBatch));

  appender->UseOwnThread();  // the appender thread writes again, and first resets its priority
  auto later = Submit(*appender, Returning(Uses("later", 1)));
  BOOST_TEST_REQUIRE((later.wait_for(std::chrono::seconds(30)) == std::future_status::ready));
  BOOST_TEST(later.get().status.ok());
  BOOST_TEST((ThreadPriority(tid) == BackgroundPriority::kNormal));
}

BOOST_AUTO_TEST_CASE(UseOwnThreadWritesWhatTheStoppedExecutorNeverRanAndAllThatFollows) {
  // The executor stops running work after its first turn, like an io_context.
  appender->UseExecutor(executor.executor());
  auto first = Submit(*appender, Returning(Uses("first", 1)), Durability::kWal);
  executor.RunUntil([&] { return Ready(first); });
  std::vector<std::future<Outcome>> futures;
  for (int i = 0; i < 6; ++i) {
    futures.push_back(Submit(*appender, Returning(Uses("s", 1)),
                             i % 2 ? Durability::kSync : Durability::kWal));
  }
  BOOST_TEST(executor.pending() == 1u);  // handed out, never to run
  appender->UseOwnThread();
  for (auto& f : futures) {
    BOOST_TEST_REQUIRE((f.wait_for(std::chrono::seconds(30)) == std::future_status::ready));
    const Outcome o = f.get();
    BOOST_TEST(o.status.ok());
    BOOST_TEST((o.thread != std::this_thread::get_id()));  // the appender thread's work
  }
  // Later requests too, and nothing more is handed to the executor.
  auto later = Submit(*appender, Returning(Uses("later", 1)));
  BOOST_TEST_REQUIRE((later.wait_for(std::chrono::seconds(30)) == std::future_status::ready));
  BOOST_TEST(later.get().status.ok());
  BOOST_TEST(executor.pending() == 1u);
  executor.RunPending();  // the stale turn finds nothing to do
  BOOST_TEST(LogSeqs(*store) == Range(1, 8));
  BOOST_TEST(CheckChain(*store).size() == 8u);
}

// Runs `executor` the way serve's I/O threads do: work while any is queued, and when none is,
// the appender's idle fsync, else a short wait for work. Returns false if `until` does not hold
// within a minute (a hang, reported instead of blocking the suite).
bool RunLikeAnIoThread(ManualExecutor& executor, Appender& appender,
                       const std::function<bool()>& until) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!until()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (executor.RunPending() > 0) continue;
    if (appender.SyncHeldOnIdleThread()) continue;
    executor.WaitForWork(std::chrono::milliseconds(5));
  }
  return true;
}

AppenderOptions WithIdleSyncFallback(std::chrono::microseconds fallback) {
  AppenderOptions options;
  options.idle_sync_fallback = fallback;
  return options;
}

BOOST_AUTO_TEST_CASE(AnIdleExecutorThreadFsyncsHeldAcknowledgementsItself) {
  StartAppender(WithIdleSyncFallback(std::chrono::hours(1)));  // the appender thread never does
  appender->UseExecutor(executor.executor());
  BOOST_TEST(!appender->SyncHeldOnIdleThread());  // nothing held
  auto created = Submit(*appender, Returning(Uses("created", 1)), Durability::kSync);
  auto used = Submit(*appender, Returning(Uses("used", 1)), Durability::kWal);
  executor.RunPending();  // both written; both wait for the fsync the creation asked for
  BOOST_TEST(!Ready(created));
  BOOST_TEST(!Ready(used));
  const uint64_t fsyncs_before = store->wal_fsyncs();
  BOOST_TEST(appender->SyncHeldOnIdleThread());
  BOOST_TEST(store->wal_fsyncs() == fsyncs_before + 1);
  BOOST_TEST(!Ready(created));  // handed to the executor, acknowledged in a writer turn
  BOOST_TEST(executor.pending() == 1u);
  executor.RunPending();
  BOOST_TEST_REQUIRE(Ready(created));
  BOOST_TEST_REQUIRE(Ready(used));
  const Outcome c = created.get();
  const Outcome u = used.get();
  BOOST_TEST((c.status.ok() && u.status.ok()));
  BOOST_TEST((c.first == 1u && u.first == 2u));
  BOOST_TEST((c.thread == std::this_thread::get_id()));
  BOOST_TEST(!appender->SyncHeldOnIdleThread());
  BOOST_TEST(store->wal_fsyncs() == fsyncs_before + 1);
}

// What a request's stage step saw, and how its done went.
struct Staged {
  std::vector<uint64_t> stage_fsyncs;  // the store's fsync count at each stage call
  uint64_t stage_first = 0, stage_last = 0;
  std::future<Outcome> done;
  uint64_t done_fsyncs = 0;
};

// Submits `prepare` with a stage step; both record the store's fsync count when they run.
std::shared_ptr<Staged> SubmitStaged(Appender& appender, EventStore& store, Prepare prepare) {
  auto staged = std::make_shared<Staged>();
  auto promise = std::make_shared<std::promise<Outcome>>();
  staged->done = promise->get_future();
  AppendRequest request;
  request.durability = Durability::kSync;
  request.prepare = std::move(prepare);
  request.stage = [staged, &store](uint64_t first, uint64_t last) {
    staged->stage_fsyncs.push_back(store.wal_fsyncs());
    staged->stage_first = first;
    staged->stage_last = last;
  };
  request.done = [staged, promise, &store](const Status& s, uint64_t first, uint64_t last) {
    staged->done_fsyncs = store.wal_fsyncs();
    promise->set_value({s, first, last, std::this_thread::get_id()});
  };
  appender.Submit(std::move(request));
  return staged;
}

BOOST_AUTO_TEST_CASE(AnIdleThreadStagesItsGroupBeforeTheFsyncAndAcknowledgesItAfter) {
  StartAppender(WithIdleSyncFallback(std::chrono::hours(1)));
  appender->UseExecutor(executor.executor());
  auto a = SubmitStaged(*appender, *store, Returning(Uses("a", 2)));
  auto refused = SubmitStaged(*appender, *store, Refusing(Status::Conflict("no")));
  auto b = SubmitStaged(*appender, *store, Returning(Uses("b", 1)));
  executor.RunPending();  // written, held for the fsync
  BOOST_TEST(a->stage_fsyncs.empty());  // nothing staged before the group is taken to be fsynced
  const uint64_t fsyncs_before = store->wal_fsyncs();
  BOOST_TEST_REQUIRE(appender->SyncHeldOnIdleThread());
  // Staged once each, before the fsync, with the request's seqs; not yet acknowledged.
  BOOST_TEST(a->stage_fsyncs == std::vector<uint64_t>{fsyncs_before});
  BOOST_TEST(b->stage_fsyncs == std::vector<uint64_t>{fsyncs_before});
  BOOST_TEST((a->stage_first == 1u && a->stage_last == 2u && b->stage_first == 3u));
  BOOST_TEST(!Ready(a->done));
  executor.RunPending();
  BOOST_TEST_REQUIRE(Ready(a->done));
  BOOST_TEST_REQUIRE(Ready(b->done));
  BOOST_TEST((a->done.get().status.ok() && b->done.get().status.ok()));
  BOOST_TEST(a->done_fsyncs == fsyncs_before + 1);  // acknowledged only after the fsync
  BOOST_TEST(b->done_fsyncs == fsyncs_before + 1);
  // A refused request has nothing to stage; it was answered at once.
  BOOST_TEST(refused->stage_fsyncs.empty());
  BOOST_TEST(refused->done.get().status.code() == StatusCode::kConflict);
}

BOOST_AUTO_TEST_CASE(AStagedRequestWhoseFsyncFailsIsAnsweredWithTheFailure) {
  StartAppender(WithIdleSyncFallback(std::chrono::hours(1)));
  appender->UseExecutor(executor.executor());
  auto a = SubmitStaged(*appender, *store, Returning(Uses("a", 1)));
  executor.RunPending();
  store->InjectWriteFailureForTesting(true);  // the write went through; its fsync fails
  BOOST_TEST_REQUIRE(appender->SyncHeldOnIdleThread());
  BOOST_TEST(a->stage_fsyncs.size() == 1u);
  executor.RunPending();
  BOOST_TEST_REQUIRE(Ready(a->done));
  BOOST_TEST(a->done.get().status.code() == StatusCode::kUnavailable);
}

BOOST_AUTO_TEST_CASE(TheAppenderThreadsFsyncLeavesTheWholeAnswerToDone) {
  StartAppender(WithIdleSyncFallback(std::chrono::milliseconds(1)));
  appender->UseExecutor(executor.executor());  // never runs dry: no SyncHeldOnIdleThread
  auto a = SubmitStaged(*appender, *store, Returning(Uses("a", 1)));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!Ready(a->done) && std::chrono::steady_clock::now() < deadline) {
    executor.RunPending();
    executor.WaitForWork(std::chrono::milliseconds(5));
  }
  BOOST_TEST_REQUIRE(Ready(a->done));
  BOOST_TEST(a->done.get().status.ok());
  BOOST_TEST(a->stage_fsyncs.empty());
}

BOOST_AUTO_TEST_CASE(WithoutAFallbackIdleExecutorThreadsLeaveTheFsyncToTheAppenderThread) {
  appender->UseExecutor(executor.executor());
  auto created = Submit(*appender, Returning(Uses("created", 1)), Durability::kSync);
  executor.RunPending();
  BOOST_TEST(!appender->SyncHeldOnIdleThread());
  executor.RunUntil([&] { return Ready(created); });
  BOOST_TEST(created.get().status.ok());
}

BOOST_AUTO_TEST_CASE(AGroupNoIdleThreadFsyncsIsFsyncedByTheAppenderThreadAfterTheFallback) {
  StartAppender(WithIdleSyncFallback(std::chrono::milliseconds(20)));
  // The executor's thread never runs dry: SyncHeldOnIdleThread is never called.
  appender->UseExecutor(executor.executor());
  for (int round = 0; round < 3; ++round) {  // also once the syncer has a deadline of its own
    const uint64_t fsyncs_before = store->wal_fsyncs();
    auto created = Submit(*appender, Returning(Uses("c", 1)), Durability::kSync);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (!Ready(created) && std::chrono::steady_clock::now() < deadline) {
      executor.RunPending();
      executor.WaitForWork(std::chrono::milliseconds(5));
    }
    BOOST_TEST_REQUIRE(Ready(created));
    BOOST_TEST(created.get().status.ok());
    BOOST_TEST(store->wal_fsyncs() == fsyncs_before + 1);
  }
}

// While one idle thread's fsync is in flight, another finds nothing to take: what was held
// meanwhile was written after that fsync began, so it waits for the next one, and is
// acknowledged after what the first covers.
BOOST_AUTO_TEST_CASE(AnotherIdleThreadLeavesHeldWritesToTheNextFsync) {
  StartAppender(WithIdleSyncFallback(std::chrono::hours(1)));
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> syncs{0};
  store->RunBeforeWalSyncForTesting([&] {
    if (syncs.fetch_add(1) == 0) {
      entered.set_value();
      released.wait();
    }
  });
  appender->UseExecutor(executor.executor());
  auto first = Submit(*appender, Returning(Uses("first", 1)), Durability::kSync);
  executor.RunPending();
  std::future<bool> first_idle = std::async(std::launch::async, [&] { return appender->SyncHeldOnIdleThread(); });
  entered.get_future().wait();  // its fsync is in flight
  auto second = Submit(*appender, Returning(Uses("second", 1)), Durability::kSync);
  auto used = Submit(*appender, Returning(Uses("used", 1)), Durability::kWal);
  executor.RunPending();  // written and held behind the fsync in flight
  BOOST_TEST(!appender->SyncHeldOnIdleThread());
  release.set_value();
  BOOST_TEST(first_idle.get());
  executor.RunPending();
  BOOST_TEST_REQUIRE(Ready(first));
  BOOST_TEST(first.get().first == 1u);
  BOOST_TEST(!Ready(second));
  BOOST_TEST(!Ready(used));
  BOOST_TEST(appender->SyncHeldOnIdleThread());  // the next idle moment: one fsync for both
  executor.RunPending();
  BOOST_TEST_REQUIRE(Ready(second));
  BOOST_TEST_REQUIRE(Ready(used));
  BOOST_TEST((second.get().first == 2u && used.get().first == 3u));
  BOOST_TEST(syncs.load() == 2);
  store->RunBeforeWalSyncForTesting(nullptr);
}

// The syncer waiting for a periodic fsync far off still takes a group held meanwhile once the
// fallback has passed, not at that fsync.
BOOST_AUTO_TEST_CASE(TheFallbackHoldsWhileTheSyncerWaitsForAPeriodicFsync) {
  AppenderOptions options = WithIdleSyncFallback(std::chrono::milliseconds(20));
  options.wal_sync_interval = std::chrono::hours(1);
  StartAppender(options);
  // The executor never runs dry.
  appender->UseExecutor(executor.executor());
  auto used = Submit(*appender, Returning(Uses("u", 1)), Durability::kWal);
  executor.RunPending();
  BOOST_TEST_REQUIRE(Ready(used));
  // Lets the syncer settle into its wait for the periodic fsync due in an hour (the case under
  // test; if it has not yet, it sees the group below when it does).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto created = Submit(*appender, Returning(Uses("c", 1)), Durability::kSync);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!Ready(created) && std::chrono::steady_clock::now() < deadline) {
    executor.RunPending();
    executor.WaitForWork(std::chrono::milliseconds(5));
  }
  BOOST_TEST_REQUIRE(Ready(created));
  BOOST_TEST(created.get().status.ok());
}

BOOST_AUTO_TEST_CASE(StopFinishesHeldAcknowledgementsNoIdleThreadFsynced) {
  StartAppender(WithIdleSyncFallback(std::chrono::hours(1)));
  appender->UseExecutor(executor.executor());
  auto created = Submit(*appender, Returning(Uses("c", 1)), Durability::kSync);
  executor.RunPending();
  BOOST_TEST(!Ready(created));
  const uint64_t fsyncs_before = store->wal_fsyncs();
  appender->Stop();
  BOOST_TEST_REQUIRE(Ready(created));
  BOOST_TEST(created.get().status.ok());
  BOOST_TEST(store->wal_fsyncs() == fsyncs_before + 1);
  BOOST_TEST(!appender->SyncHeldOnIdleThread());
}

// Two executor threads fsync when idle while the appender thread's fallback races them and
// producers keep submitting: every acknowledgement still comes after an fsync that covers it,
// and in log order.
BOOST_AUTO_TEST_CASE(IdleThreadsAndTheFallbackAcknowledgeInLogOrder) {
  StartAppender(WithIdleSyncFallback(std::chrono::microseconds(300)));
  appender->UseExecutor(executor.executor());
  constexpr int kProducers = 3;
  constexpr int kPerProducer = 200;
  std::mutex mutex;
  std::vector<uint64_t> acknowledged;  // first seq of each acknowledgement, in the order given
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  std::atomic<int> unsynced_acks{0};  // synced requests acknowledged with no fsync ended since
  auto submit = [&](int i) {
    AppendRequest request;
    request.durability = i % 3 == 0 ? Durability::kSync : Durability::kWal;
    auto fsyncs_when_sequenced = std::make_shared<uint64_t>(0);
    request.prepare = [&, fsyncs_when_sequenced](AppendContext&) -> Result<std::vector<PendingEvent>> {
      *fsyncs_when_sequenced = store->wal_fsyncs();
      return Uses("p", 1);
    };
    request.done = [&, fsyncs_when_sequenced, sync = request.durability == Durability::kSync](
                       const Status& s, uint64_t first, uint64_t) {
      {
        std::lock_guard lock(mutex);
        acknowledged.push_back(first);
      }
      if (sync && store->wal_fsyncs() <= *fsyncs_when_sequenced) unsynced_acks.fetch_add(1);
      if (!s.ok()) failed.fetch_add(1);
      done.fetch_add(1);
    };
    appender->Submit(std::move(request));
  };
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerProducer; ++i) {
        submit(i);
        if (i % 16 == 0) std::this_thread::yield();
      }
    });
  }
  const int total = kProducers * kPerProducer;
  std::atomic<bool> hung{false};
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      if (!RunLikeAnIoThread(executor, *appender, [&] { return done.load() == total; })) hung = true;
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST_REQUIRE(!hung.load());
  BOOST_TEST(failed.load() == 0);
  BOOST_TEST_REQUIRE(acknowledged.size() == static_cast<size_t>(total));
  BOOST_TEST(std::is_sorted(acknowledged.begin(), acknowledged.end()));
  BOOST_TEST(acknowledged.front() == 1u);
  BOOST_TEST(unsynced_acks.load() == 0);
  BOOST_TEST(CheckChain(*store).size() == static_cast<size_t>(total));
}

BOOST_AUTO_TEST_SUITE_END()


}  // namespace keyledger
