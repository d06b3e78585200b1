#pragma once
// The keyledger domain: every command and query the HTTP handlers and tools call. A handler
// parses, calls exactly one of these, and maps the Status; it never touches storage or rules.
//
// Commands are asynchronous: they go through the appender (events/appender.h) and call back on
// the appender thread once their events are durable (lifecycle: fsynced; uses: in the WAL), or at
// once with the refusal. Lifecycle commands take a Reply (projections/reply.h): a plain callback,
// or one that builds its answer while the fsync is still to come. Callbacks must not block.
// Queries are synchronous reads of the projections and never wait for a write in progress.
//
// Thread-safe.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/signing.h"
#include "core/status.h"
#include "events/appender.h"
#include "events/chain_checkpoint.h"
#include "events/store.h"
#include "projections/audit_query.h"
#include "projections/ledger_state.h"
#include "projections/principal.h"
#include "projections/read_thread.h"
#include "projections/reply.h"
#include "projections/review.h"

namespace keyledger {

class CheckpointWriter;
struct CheckpointSnapshot;
class ExpirySweeper;

template <typename T>
using Callback = std::function<void(Result<T>)>;

struct LedgerOptions {
  std::string api_token_prefix = "kl";
  // Operator token to install on an empty log; generated when empty.
  std::string bootstrap_token;
  // Called once with a freshly generated operator token (to print it); never with a given one.
  std::function<void(const std::string& token)> on_operator_token;
  Durability use_durability = Durability::kWal;
  // With kWal: the longest a written key.used goes without an fsync (AppenderOptions::
  // wal_sync_interval); zero leaves it to the next lifecycle fsync. A server sets 20 ms.
  std::chrono::milliseconds use_fsync_interval{0};
  // Events between checkpoints: this many, or checkpoint_events_per_key × the number of keys if
  // that is more (a checkpoint's cost grows with the keys: ~0.7 s for a million).
  uint64_t checkpoint_every_events = 100000;
  uint64_t checkpoint_events_per_key = 1;
  // ...and at least this long after the previous one: each costs the writer a freeze (~5 ms at a
  // million keys) and copies of the records it then changes (~0.1 ms per 1024), and the
  // checkpoint thread a serialization and ~170 MB of writes at a million keys; under a steady
  // load the event count alone asked for one every few seconds. A crash restart then replays at
  // most this much of the log (~1 s of replay at 40 k events/s).
  TimeMs checkpoint_min_interval_ms = 30 * kSecondMs;
  // Periodic checkpoints are written on a thread of their own (the appender only freezes the
  // state); the ones at open and close always complete before those return.
  bool background_checkpoints = true;
  // Of that thread (core/thread_priority.h); a server sets kIdle.
  BackgroundPriority checkpoint_priority = BackgroundPriority::kNormal;
  // Of the thread long reads run on (point-in-time queries, reviews, ...); a server sets
  // kIdle. Measured with reviews fetched back to back during a paced verify load: a verify's p99
  // 1.24 ms at kIdle (1.39 ms with no review at all), 4.6 ms at kLow, 6.5 ms at kNormal. At kIdle
  // a read that has had less than a fifth of a core over kLongReadRaiseAfter is raised to kLow
  // (ReadThread), so that one on a saturated core is answered, if slowly, instead of waiting for
  // the load to drop.
  BackgroundPriority long_read_priority = BackgroundPriority::kNormal;
  // Of the appender thread while the writes run on RunWritesOn's executor and it only fsyncs
  // (AppenderOptions::syncer_priority); a server sets kBatch.
  BackgroundPriority syncer_priority = BackgroundPriority::kNormal;
  // Non-zero: RunWritesOn's executor threads call SyncHeldOnIdleThread whenever they run out of
  // work, and the appender thread fsyncs only what has waited this long for them
  // (AppenderOptions::idle_sync_fallback).
  std::chrono::microseconds idle_sync_fallback{0};
  // A checkpoint is also written when this much time has passed and the log has grown.
  TimeMs checkpoint_every_ms = 60 * kSecondMs;
  // Signs the chain head into every checkpoint (events/chain_checkpoint.h). Without it, only
  // projection checkpoints are written.
  std::optional<SigningKey> signing_key;
  bool start_sweeper = true;
};

struct WorkspaceInput {
  std::string id;
  std::string name;
  std::optional<Plan> plan;
  std::optional<int64_t> max_expiry_days;  // longest key lifetime allowed; default 365
};

struct WorkspaceUpdate {
  std::optional<Plan> plan;
  std::optional<int64_t> max_expiry_days;
};

struct CreateKeyInput {
  std::string name;
  std::optional<Preset> preset;
  std::optional<std::vector<std::string>> abilities;
  std::string owner;
  std::string description;
  std::optional<TimeMs> expires_at;
  std::optional<int64_t> expires_in_days;
  Metadata metadata;
  std::string idempotency_key;
  Digest request_digest{};  // of the request body, for idempotent retries
};

// What a rotation may change; the new key inherits from the old one whatever is not given (its
// abilities unless a preset or abilities are given). Its expiry is the default unless given.
struct RotateKeyInput {
  int64_t grace_seconds = 0;
  std::optional<std::string> name;
  std::optional<std::string> owner;
  std::optional<std::string> description;
  std::optional<Metadata> metadata;
  std::optional<Preset> preset;
  std::optional<std::vector<std::string>> abilities;
  std::optional<TimeMs> expires_at;
  std::optional<int64_t> expires_in_days;
  std::string idempotency_key;
  Digest request_digest{};
};

struct CreatedKey {
  KeyState key;
  std::string token;  // empty on an idempotent replay: the token is never stored
  bool replayed = false;
  std::optional<KeyState> replaced;  // rotation: the old key
};

enum class VerifyCode { kValid, kNotFound, kExpired, kRevoked, kForbidden, kUpgradeRequired };
std::string_view VerifyCodeName(VerifyCode code);  // "VALID", ...

struct VerifyInput {
  std::string_view token;
  std::string ability;  // empty: no ability required. REQUIRES: empty or IsValidAbility
  std::string source_ip;
};

struct VerifyResult {
  VerifyCode code = VerifyCode::kNotFound;
  std::optional<KeyState> key;  // set for every known API key, whatever the outcome
};

enum class KeyFilter { kActive, kExpired, kRevoked, kAll };

struct KeyPage {
  std::vector<KeyState> keys;
  std::string next_cursor;  // empty at the end
};

struct UsageQuery {
  std::optional<TimeMs> from;
  std::optional<TimeMs> to;
  bool daily = false;
};

struct UsageReport {
  uint64_t total = 0;
  uint64_t rejected = 0;
  TimeMs last_used_at = 0;
  std::vector<UsageBucket> buckets;
};

struct LedgerStats {
  std::atomic<uint64_t> verifies_unknown{0};
  std::atomic<uint64_t> verifies_known{0};
  std::atomic<uint64_t> events_appended{0};
  std::atomic<uint64_t> batches{0};
};

class Ledger : private EventSink {
 public:
  Ledger(EventStore& store, const Clock& clock, LedgerOptions options);
  ~Ledger() override;

  // Loads the latest checkpoint, replays the log after it, starts the appender and the expiry
  // sweeper, and installs the operator key on an empty log.
  Status Open();
  // Finishes pending commands and reads of the past, writes a checkpoint and flushes. Idempotent.
  // Never relies on the executor given to RunWritesOn, which may have stopped running work (a
  // stopped io_context). Not OK when the last checkpoint or the flush could not be written (or
  // writes had stopped before): what was acknowledged is in the WAL all the same, and the next
  // open recovers it; later calls return OK.
  Status Close();
  // Runs `read` whole on the ledger's read thread, where the ledger's own long reads (reviews,
  // point-in-time queries, listings and audits that read far) run in steps: once the reads
  // handed over before it have started and had a step each (ReadThread). Returns at once.
  // Thread-safe. After Close, runs `read` on the caller's thread.
  // `read` returns what hands its answer over (or an empty function); that runs on the read thread
  // too, but at normal priority (ReadThread::Urgent): it takes the server's locks.
  void RunLongRead(std::function<std::function<void()>()> read);
  // After Open: commands are then sequenced and written by work handed to `executor` (the
  // server's I/O threads) rather than by the appender thread; see Appender::UseExecutor.
  void RunWritesOn(AppendExecutor executor);
  // For an executor thread with nothing left to run; see Appender::SyncHeldOnIdleThread. Safe
  // to call from any thread at any time (before Open has finished, it does nothing).
  bool SyncHeldOnIdleThread() { return ready() && appender_->SyncHeldOnIdleThread(); }
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  Status health() const { return store_.sticky_error(); }

  // Unauthorized unless `token` is a live admin or operator key.
  Result<Principal> Authenticate(std::string_view token, std::string_view actor) const;

  void CreateWorkspace(const Principal& p, WorkspaceInput input, Reply<WorkspaceState> done);
  void UpdateWorkspace(const Principal& p, std::string ws, WorkspaceUpdate update,
                       Reply<WorkspaceState> done);
  void CreateAdminKey(const Principal& p, std::string ws, std::string name, std::string role,
                      Reply<CreatedKey> done);
  void CreateApiKey(const Principal& p, std::string ws, CreateKeyInput input,
                    Reply<CreatedKey> done);
  void RotateKey(const Principal& p, std::string ws, std::string key_id, RotateKeyInput input,
                 Reply<CreatedKey> done);
  void RevokeKey(const Principal& p, std::string ws, std::string key_id, std::string reason,
                 Reply<KeyState> done);
  // Operator only: ends an admin or auditor key of `ws` at once.
  void RevokeAdminKey(const Principal& p, std::string ws, std::string key_id, std::string reason,
                      Reply<KeyState> done);
  // Never fails for a well-formed request: unknown tokens are kNotFound and append nothing; every
  // decision on a known API key appends a key.used event first. Fails only when the log cannot
  // be written.
  void Verify(VerifyInput input, Callback<VerifyResult> done);

  Result<WorkspaceState> GetWorkspace(const Principal& p, std::string_view ws) const;
  // With `as_of`, answers from the state the ledger had at that instant (point-in-time replay).
  Result<KeyState> GetKey(const Principal& p, std::string_view ws, std::string_view key_id,
                          std::optional<TimeMs> as_of = std::nullopt) const;
  Result<KeyPage> ListKeys(const Principal& p, std::string_view ws, KeyFilter filter, size_t limit,
                           std::string_view cursor, std::optional<TimeMs> as_of = std::nullopt) const;
  // The same for a caller that must not wait long (an I/O thread): with `as_of`, a request the
  // principal may not make or that asks about the future is answered here; otherwise the state at
  // that instant is rebuilt on the read thread, in steps (projections/point_in_time.h:
  // StateAsOfSteps), and `done` runs there. Without `as_of` both run here.
  void GetKey(const Principal& p, std::string ws, std::string key_id, std::optional<TimeMs> as_of,
              Callback<KeyState> done);
  // Without `as_of`, ListKeys reads at most kListKeysChunkReads of the workspace's keys and
  // builds at most kListKeysChunkViews of them here, and answers if that completes the page (a
  // default page of a workspace's active keys does); otherwise the listing goes on from there on
  // the read thread, a chunk of that size per step (as Review's). A status that
  // matches rarely reads the whole workspace: 0.5-1.5 ms at ~100 k keys on the I/O thread, a
  // page of 1,000 keys ~1.4 ms.
  void ListKeys(const Principal& p, std::string ws, KeyFilter filter, size_t limit,
                std::string cursor, std::optional<TimeMs> as_of, Callback<KeyPage> done);
  static constexpr size_t kListKeysChunkReads = 4096;
  static constexpr size_t kListKeysChunkViews = 100;
  // The review of `ws`'s API keys as of now (projections/review.h). A refused principal is answered
  // before this returns; otherwise `done` runs on the read thread, which walks the workspace
  // kReviewChunkKeys keys at a time, a step each (ReadThread::RunInSteps: other reads there take
  // turns with it), each chunk under the state's shared lock. The writer takes that lock
  // exclusively for every batch, so it waits for one chunk at most rather than for the whole
  // workspace (~0.3 us a key: 130 ms at bench/run's ~450 k keys).
  void Review(const Principal& p, std::string ws, Callback<WorkspaceReview> done);
  // 64: bench/run's verify_reviewed p99 1.8 ms (server's own 1.0 ms) against 2.53 ms (1.5 ms) at
  // 256, reviews of ~450 k keys as fast (286 against 292 ms).
  static constexpr size_t kReviewChunkKeys = 64;
  static constexpr std::chrono::milliseconds kLongReadRaiseAfter{500};
  // The chain head signed (operator; API.md's GET /checkpoint): the newest signed checkpoint once
  // one covers the log as it stood when asked. Periodic ones are up to checkpoint_every_ms or
  // checkpoint_every_events apart, so when the newest is behind, one is written now (on the
  // checkpoint thread: ~0.7 s at a million keys) and `done` runs there once it is stored; at once
  // otherwise, or without a signing key.
  void SignedHead(const Principal& p, Callback<ChainCheckpoint> done);
  Result<UsageReport> Usage(const Principal& p, std::string_view ws, std::string_view key_id,
                            const UsageQuery& query) const;
  Result<EventPage> Audit(const Principal& p, std::string_view ws, const EventQuery& query) const;
  // The same for a caller that must not wait long (an I/O thread): reads at most
  // kAuditInlineRows index rows here and answers if that is enough (a page of an unfiltered
  // timeline is); otherwise the query goes on from there on the read thread, kAuditStepRows rows
  // a step (ReadThread::RunInSteps; ContinueQuery), and `done` runs there. A filter that matches
  // rarely reads the owner's whole range: an actor filter cost 0.36 s at ~120 k keys on the I/O
  // thread, a verify's p99 1.6 s with five such queries.
  void Audit(const Principal& p, std::string ws, EventQuery query, Callback<EventPage> done);
  static constexpr size_t kAuditInlineRows = 256;
  static constexpr size_t kAuditStepRows = 16384;  // ~1.5 us a row with an actor filter: ~25 ms
  Result<EventPage> Events(const Principal& p, uint64_t after, size_t limit) const;

  // For the sweeper and tests: appends key.expired for every active key past its deadline.
  void SweepExpired(std::function<void(Status)> done);
  // Gives the appender thread a turn with nothing to append, for time-based checkpoints.
  void Tick();
  TimeMs NextDeadline() const;

  const LedgerStats& stats() const { return stats_; }
  uint64_t head_seq() const { return appender_ ? appender_->head_seq() : 0; }
  uint64_t wal_fsyncs() const { return store_.wal_fsyncs(); }
  Digest Fingerprint() const;
  const Clock& clock() const { return clock_; }
  static WorkspaceState WorkspaceView(const WorkspaceState& ws) {
    WorkspaceState view;
    view.id = ws.id;
    view.name = ws.name;
    view.plan = ws.plan;
    view.max_expiry_days = ws.max_expiry_days;
    view.created_at = ws.created_at;
    view.updated_at = ws.updated_at;
    return view;  // without the list of keys
  }
  // `key` for callers: without the digest, idempotency data or usage buckets, with the status as
  // it is at `at` (now by default).
  KeyState ViewKey(KeyState key, TimeMs at = 0) const;

 private:
  void Apply(const Event& event, std::string_view body, BatchRows& rows) override;
  void AfterBatch(uint64_t head_seq) override;
  void BeforeBatch(uint64_t head_seq) override;
  Status Recover();
  Status WriteCheckpoint(bool background);
  Status StoreSignedCheckpoint(CheckpointSnapshot snapshot, bool through_appender);
  // After a checkpoint was stored (`status` ok: the chain head at `seq` signed) or failed: answers
  // the waiters it serves (all of them on a failure), and asks for another for those left.
  void AnswerHeadWaiters(uint64_t seq, const Status& status, bool on_checkpoint_thread);
  Result<ChainCheckpoint> NewestSignedHead() const;
  // `through_appender`: rows go in the appender's batches (the checkpoint thread, while the
  // appender runs); otherwise they are written to the store directly (the appender's own thread,
  // or while nothing appends).
  Status StoreCheckpoint(CheckpointSnapshot snapshot, bool through_appender);
  // Submits `fill`'s rows to the appender as a request with no event, and waits until written.
  Status WriteRowsThroughAppender(const std::function<void(BatchRows&)>& fill);
  Status Bootstrap();
  Result<KeyState> FindApiKey(std::string_view ws, std::string_view key_id) const;
  static Result<KeyState> FindApiKeyIn(const LedgerState& state, std::string_view ws,
                                              std::string_view key_id);
  // Runs `step` on the read thread in turn with the other reads there (ReadThread::RunInSteps)
  // until it gives an answer, and hands that to `done`, which runs there at normal priority.
  template <typename T>
  void AnswerInSteps(std::function<std::optional<Result<T>>()> step, Callback<T> done) {
    long_reads_.RunInSteps([this, step = std::move(step), done = std::move(done)] {
      std::optional<Result<T>> answer = step();
      if (!answer) return false;
      const ReadThread::Urgency urgent = long_reads_.Urgent();
      done(std::move(*answer));
      return true;
    });
  }
  // Rebuilds the state at `as_of` on the read thread, in steps (StateAsOfSteps, in turn with the
  // other reads there), and answers `done` there with `read` of it.
  template <typename T>
  void AnswerAsOf(TimeMs as_of, std::function<Result<T>(const LedgerState&)> read, Callback<T> done);
  // A review under way on the read thread.
  struct ReviewWalk {
    std::string ws;
    bool started = false;
    size_t next = 0;
    WorkspaceReview review{};
  };
  // One step of a review: kReviewChunkKeys keys under the state's lock, held at normal priority
  // (ReadThread::Urgent). The answer once the walk is done.
  std::optional<Result<WorkspaceReview>> ReviewStep(ReviewWalk& walk);
  // NotFound unless workspace `ws` exists now.
  Status CheckWorkspaceExists(std::string_view ws) const;
  Result<KeyPage> ListKeysIn(const LedgerState& state, std::string_view ws, KeyFilter filter,
                             size_t limit, uint64_t start, TimeMs at) const;
  // A listing under way: the page so far and the position of the next key to read.
  struct KeyListing {
    KeyFilter filter;
    size_t limit;
    TimeMs at;
    size_t next;
    KeyPage page;
  };
  // Reads `ws`'s keys from listing.next on, at most `max_reads` of them, building at most
  // `max_views` views. True when the page is complete: `limit` keys and the cursor of the next
  // match, or the workspace's end.
  bool ListKeysChunk(const LedgerState& state, const WorkspaceState& ws, KeyListing& listing,
                     size_t max_reads, size_t max_views) const;
  // One chunk of a listing (as ReviewStep's, at normal priority on the read thread); the page
  // once it is complete. The I/O thread runs the first chunk itself.
  std::optional<Result<KeyPage>> ListKeysStep(std::string_view ws, KeyListing& listing);
  Result<LedgerState> StateAt(TimeMs as_of) const;
  Status CheckAsOf(TimeMs as_of) const;  // not in the future
  // A listing's arguments, checked before any state is read; the position it starts from.
  Result<uint64_t> CheckListing(const Principal& p, std::string_view ws, size_t limit,
                                std::string_view cursor, std::optional<TimeMs> as_of) const;
  // `key_id` of `ws` in `state`, as seen at `at`.
  Result<KeyState> KeyAt(const LedgerState& state, std::string_view ws, std::string_view key_id,
                         TimeMs at) const;
  void Revoke(const Principal& p, Action action, KeyKind kind, std::string ws, std::string key_id,
              std::string reason, Reply<KeyState> done);
  // On the appender thread only: the events a new key's creation consists of. Takes the input's
  // strings into the event.
  Result<std::vector<PendingEvent>> PrepareCreate(const std::string& actor, const std::string& ws,
                                                  CreateKeyInput&& in, TimeMs now,
                                                  const std::string& key_id, const std::string& token,
                                                  bool* replayed, std::string* replay_id) const;

  EventStore& store_;
  const Clock& clock_;
  const LedgerOptions options_;
  TimeOrderedIds key_ids_{"key_"};  // new keys' ids, each after the one before

  mutable std::shared_mutex state_mutex_;
  LedgerState state_;  // written only on the appender thread, under state_mutex_

  std::unique_ptr<CheckpointWriter> checkpoint_writer_;  // before the appender: it outlives it
  std::unique_ptr<Appender> appender_;
  std::unique_ptr<ExpirySweeper> sweeper_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> closed_{false};
  std::atomic<bool> closing_{false};  // no new background checkpoint once set
  uint64_t checkpoint_seq_ = 0;     // appender thread only
  TimeMs checkpoint_written_at_ = 0;  // appender thread only
  // SignedHead's callers waiting for a signed checkpoint at or after `seq`.
  struct HeadWaiter {
    uint64_t seq;
    Callback<ChainCheckpoint> done;
  };
  std::mutex signed_mutex_;
  uint64_t signed_seq_ = 0;                // GUARDED_BY(signed_mutex_) the newest stored one's
  std::vector<HeadWaiter> head_waiters_;   // GUARDED_BY(signed_mutex_)
  std::atomic<uint64_t> head_wanted_{0};   // the highest seq a waiter wants signed
  mutable LedgerStats stats_;
  ReadThread long_reads_;  // last: stopped first, while everything its reads use still exists
};

}  // namespace keyledger
