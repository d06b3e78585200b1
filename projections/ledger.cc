#include "projections/ledger.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <future>
#include <iterator>
#include <mutex>

#include "core/log.h"
#include "core/memory.h"
#include "core/random.h"
#include "core/token.h"
#include "projections/checkpoint.h"
#include "projections/checkpoint_writer.h"
#include "projections/expiry_sweeper.h"

namespace keyledger {

std::string_view VerifyCodeName(VerifyCode code) {
  switch (code) {
    case VerifyCode::kValid: return "VALID";
    case VerifyCode::kNotFound: return "NOT_FOUND";
    case VerifyCode::kExpired: return "EXPIRED";
    case VerifyCode::kRevoked: return "REVOKED";
    case VerifyCode::kForbidden: return "FORBIDDEN";
    case VerifyCode::kUpgradeRequired: return "UPGRADE_REQUIRED";
  }
  return "";
}

Ledger::Ledger(EventStore& store, const Clock& clock, LedgerOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      long_reads_(options_.long_read_priority, kLongReadRaiseAfter) {}

Ledger::~Ledger() {
  if (Status closed = Close(); !closed.ok()) log::Error("closing the ledger: " + closed.message());
}

Status Ledger::Open() {
  if (!options_.bootstrap_token.empty() &&
      CheckToken(options_.bootstrap_token) != std::optional<std::string_view>(kOperatorTokenPrefix)) {
    return Status::Invalid("The bootstrap token is not a well-formed klo_ token.");
  }
  if (Status s = CheckLogHoldsNewestCheckpoint(store_); !s.ok()) return s;
  Status recovered = Recover();
  if (!recovered.ok()) return recovered;
  checkpoint_writer_ = std::make_unique<CheckpointWriter>(
      [this](CheckpointSnapshot snapshot) {
        return StoreCheckpoint(std::move(snapshot), /*through_appender=*/true);
      },
      options_.checkpoint_priority);
  AppenderOptions appender_options;
  appender_options.syncer_priority = options_.syncer_priority;
  appender_options.wal_sync_interval = options_.use_fsync_interval;
  appender_options.idle_sync_fallback = options_.idle_sync_fallback;
  appender_ = std::make_unique<Appender>(store_, static_cast<EventSink&>(*this), clock_, appender_options);
  Status started = appender_->Start();
  if (!started.ok()) return started;
  if (appender_->head_seq() != state_.applied_seq()) {
    return Status::Internal("projections and log disagree after recovery");
  }
  checkpoint_seq_ = state_.applied_seq();
  checkpoint_written_at_ = clock_.Now();
  if (appender_->head_seq() == 0) {
    if (Status s = Bootstrap(); !s.ok()) return s;
  }
  // Sign the head now unless a signed checkpoint already vouches for it, so a reviewer always has
  // one. Nothing else appends yet: routes answer 503 until ready_, and the sweeper is not started.
  if (options_.signing_key) {
    auto latest = LatestChainCheckpoint(store_);
    if (!latest.ok()) return latest.status();
    // Also when another key signed it: a key changed on purpose (serve --new-signing-key) must
    // have signed something before the next start, which checks it against the newest.
    if (!latest->has_value() || (*latest)->seq != appender_->head_seq() ||
        (*latest)->public_key != options_.signing_key->public_key()) {
      if (Status s = WriteCheckpoint(/*background=*/false); !s.ok()) return s;
    } else {
      std::lock_guard lock(signed_mutex_);
      signed_seq_ = (*latest)->seq;  // SignedHead answers from it until the head moves
    }
  }
  if (options_.start_sweeper) {
    sweeper_ = std::make_unique<ExpirySweeper>(*this);
    sweeper_->Start();
  }
  ready_.store(true, std::memory_order_release);
  return Status::Ok();
}

Status Ledger::Recover() {
  std::optional<PublicKey> trusted;
  if (options_.signing_key) trusted = options_.signing_key->public_key();
  auto checkpoint = LoadProjectionCheckpoint(store_, std::nullopt, trusted ? &*trusted : nullptr);
  if (!checkpoint.ok()) return checkpoint.status();
  LedgerState state;
  if (checkpoint->has_value()) state = std::move(**checkpoint);
  const uint64_t from = state.applied_seq();
  Status replayed = ReplayInto(store_, state, 0);
  if (!replayed.ok()) return replayed;
  log::Info("projections loaded: checkpoint at seq " + std::to_string(from) + ", replayed to seq " +
            std::to_string(state.applied_seq()) + ", " + std::to_string(state.key_count()) + " keys");
  {
    std::unique_lock lock(state_mutex_);
    state_ = std::move(state);
  }
  // The load's and the replay's temporaries are free now; without this the allocator keeps them
  // resident (see core/memory.h). After a clean stop there is little (~1 B per key at 1 M keys).
  ReleaseFreeMemory();
  return Status::Ok();
}

Status Ledger::Bootstrap() {
  std::string token = options_.bootstrap_token;
  const bool generated = token.empty();
  if (generated) token = GenerateToken(kOperatorTokenPrefix);
  std::promise<Status> installed;
  AppendRequest request;
  request.prepare = [&](AppendContext&) -> Result<std::vector<PendingEvent>> {
    KeyCreated created;
    created.kind = KeyKind::kOperator;
    created.name = "operator";
    created.prefix = DisplayPrefix(token);
    created.digest = TokenDigest(token);
    std::vector<PendingEvent> events;
    events.push_back({"", NewId("key_"), "bootstrap", std::move(created)});
    return events;
  };
  request.done = [&](const Status& s, uint64_t, uint64_t) { installed.set_value(s); };
  appender_->Submit(std::move(request));
  Status s = installed.get_future().get();
  if (!s.ok()) return Status(s.code(), "installing the operator key failed: " + s.message());
  if (generated && options_.on_operator_token) options_.on_operator_token(token);
  return Status::Ok();
}

void Ledger::RunLongRead(std::function<std::function<void()>()> read) {
  long_reads_.Run([this, read = std::move(read)] {
    std::function<void()> deliver = read();
    const ReadThread::Urgency urgent = long_reads_.Urgent();
    if (deliver) deliver();
  });
}

void Ledger::RunWritesOn(AppendExecutor executor) {
  if (appender_) appender_->UseExecutor(std::move(executor));
}

Status Ledger::Close() {
  if (closed_.exchange(true)) return Status::Ok();
  Status outcome = Status::Ok();
  ready_.store(false, std::memory_order_release);
  long_reads_.Stop();
  if (sweeper_) sweeper_->Stop();
  if (appender_) {
    // A background checkpoint writes through the appender: let it finish first. One the writer
    // started meanwhile fails once the appender stops (logged); the drain after Stop waits for
    // it, so that nothing uses the appender once it is gone.
    closing_.store(true, std::memory_order_release);
    // The executor may have stopped (serve closes after its io_context has): work handed to it
    // now would never run, and a background checkpoint waiting on its rows would hang Close.
    appender_->UseOwnThread();
    checkpoint_writer_->Drain();
    appender_->Stop();
    checkpoint_writer_->Drain();
    if (Status stopped = store_.sticky_error(); !stopped.ok()) {
      outcome = Status::Unavailable("writes had stopped (" + stopped.message() + "), so no final checkpoint was signed");
    } else if (state_.applied_seq() != checkpoint_seq_) {
      Status s = WriteCheckpoint(/*background=*/false);
      if (!s.ok()) {
        log::Error("writing the projection checkpoint failed: " + s.message());
        outcome = Status::Unavailable("the final checkpoint could not be written (" + s.message() + ")");
      }
    }
  }
  // Whoever still waits for a signed head (the last checkpoint failed, or none was written).
  std::vector<HeadWaiter> waiting;
  {
    std::lock_guard lock(signed_mutex_);
    waiting.swap(head_waiters_);
  }
  for (HeadWaiter& w : waiting) w.done(Status::Unavailable("The service is stopping; try again shortly."));
  Status flushed = store_.Flush();
  if (!flushed.ok()) {
    log::Error(flushed.message());
    if (outcome.ok()) outcome = Status::Unavailable("the final flush failed (" + flushed.message() + ")");
  }
  return outcome;
}

void Ledger::Apply(const Event& event, std::string_view, BatchRows& rows) {
  {
    std::unique_lock lock(state_mutex_);
    state_.Apply(event);
  }
  const char type_byte = static_cast<char>(event.type());
  const std::string_view type(&type_byte, 1);
  if (!event.workspace.empty()) {
    rows.Put(Cf::kByWorkspace, AuditIndexKey(event.workspace, event.type(), event.seq), type);
  }
  if (!event.key_id.empty()) rows.Put(Cf::kByKey, AuditIndexKey(event.key_id, event.type(), event.seq), type);
  stats_.events_appended.fetch_add(1, std::memory_order_relaxed);
}

void Ledger::AfterBatch(uint64_t head_seq) {
  stats_.batches.fetch_add(1, std::memory_order_relaxed);
  // A checkpoint costs time in proportion to the keys (on this thread: a freeze of ~5 ms and chunk
  // copies of ~50 ms spread over the next changes, at 1.1 M; its serialization and writes on the
  // checkpoint thread), so they are at least as many events apart as there are keys, a constant
  // cost per event, and checkpoint_min_interval_ms apart, a bounded share of the time.
  const uint64_t every = std::max<uint64_t>(options_.checkpoint_every_events,
                                            options_.checkpoint_events_per_key * state_.key_count());
  if (head_seq - checkpoint_seq_ >= every &&
      clock_.Now() - checkpoint_written_at_ >= options_.checkpoint_min_interval_ms) {
    Status s = WriteCheckpoint(options_.background_checkpoints);
    if (!s.ok()) log::Error("writing the projection checkpoint failed: " + s.message());
  }
}

void Ledger::BeforeBatch(uint64_t head_seq) {
  const bool head_wanted = head_wanted_.load(std::memory_order_relaxed) > checkpoint_seq_;  // SignedHead
  if (head_seq != checkpoint_seq_ &&
      (head_wanted || clock_.Now() - checkpoint_written_at_ >= options_.checkpoint_every_ms)) {
    Status s = WriteCheckpoint(options_.background_checkpoints);
    if (!s.ok()) log::Error("writing the projection checkpoint failed: " + s.message());
  }
}

// On the appender thread between batches, or while nothing else appends: state_ then reflects
// exactly the written log, and needs no lock to read. Freezes the state here; serializes and
// writes it on the checkpoint writer's thread when `background` (and returns at once), else
// before returning.
Status Ledger::WriteCheckpoint(bool background) {
  if (background && (checkpoint_writer_->busy() || closing_.load(std::memory_order_acquire))) {
    return Status::Ok();  // the next trigger retries; Close writes the last one itself
  }
  CheckpointSnapshot snapshot = TakeCheckpointSnapshot(state_, appender_->head_hash());
  const uint64_t seq = snapshot.seq;
  if (background) {
    if (!checkpoint_writer_->TrySubmit(std::move(snapshot))) return Status::Ok();
  } else {
    checkpoint_writer_->Drain();
    if (Status s = StoreCheckpoint(std::move(snapshot), /*through_appender=*/false); !s.ok()) return s;
  }
  checkpoint_seq_ = seq;
  checkpoint_written_at_ = clock_.Now();
  return Status::Ok();
}

Status Ledger::WriteRowsThroughAppender(const std::function<void(BatchRows&)>& fill) {
  std::promise<Status> written;
  AppendRequest request;
  request.durability = Durability::kWal;  // StoreCheckpoint fsyncs once at the end
  request.prepare = [&fill](AppendContext& c) -> Result<std::vector<PendingEvent>> {
    fill(c.rows);
    return std::vector<PendingEvent>();
  };
  request.done = [&written](const Status& s, uint64_t, uint64_t) { written.set_value(s); };
  appender_->Submit(std::move(request));
  return written.get_future().get();
}

Status Ledger::StoreCheckpoint(CheckpointSnapshot snapshot, bool through_appender) {
  const uint64_t seq = snapshot.seq;
  const Status stored = StoreSignedCheckpoint(std::move(snapshot), through_appender);
  if (options_.signing_key && seq > 0) AnswerHeadWaiters(seq, stored, through_appender);
  return stored;
}

void Ledger::AnswerHeadWaiters(uint64_t seq, const Status& status, bool on_checkpoint_thread) {
  std::vector<HeadWaiter> answered;
  bool more_wanted = false;
  {
    std::lock_guard lock(signed_mutex_);
    if (status.ok()) signed_seq_ = std::max(signed_seq_, seq);
    auto served = std::stable_partition(head_waiters_.begin(), head_waiters_.end(), [&](const HeadWaiter& w) {
      return status.ok() && w.seq > signed_seq_;
    });
    std::move(served, head_waiters_.end(), std::back_inserter(answered));
    head_waiters_.erase(served, head_waiters_.end());
    more_wanted = !head_waiters_.empty();
  }
  if (!answered.empty()) {
    // The answers take the server's locks: not at the checkpoint thread's idle priority.
    std::optional<ScopedThisThreadPriority> urgent;
    if (on_checkpoint_thread && options_.checkpoint_priority != BackgroundPriority::kNormal) {
      urgent.emplace(BackgroundPriority::kNormal, options_.checkpoint_priority);
    }
    const Result<ChainCheckpoint> head = status.ok() ? NewestSignedHead() : Result<ChainCheckpoint>(status);
    for (HeadWaiter& w : answered) w.done(head);
  }
  // This one began before they asked: the appender thread's next turn starts another.
  if (more_wanted && !closing_.load(std::memory_order_acquire)) Tick();
}

// The projection checkpoint, then the signed chain head carrying its digest, then one fsync.
Status Ledger::StoreSignedCheckpoint(CheckpointSnapshot snapshot, bool through_appender) {
  RowsWriter writer;
  if (through_appender) {
    writer = [this](const std::function<void(BatchRows&)>& fill) { return WriteRowsThroughAppender(fill); };
  }
  const uint64_t seq = snapshot.seq;
  const Digest head_hash = snapshot.head_hash;
  const TimeMs ts = snapshot.ts;
  const Result<Digest> projection_digest = SaveProjectionCheckpoint(store_, std::move(snapshot), writer);
  if (!projection_digest.ok()) return projection_digest.status();
  if (options_.signing_key && seq > 0) {
    const ChainCheckpoint signed_head = SignChainCheckpoint(*options_.signing_key, seq, head_hash, ts,
                                                            *projection_digest);
    const std::string row = ChainCheckpointRow(signed_head.seq);
    const std::string json = signed_head.ToJson();
    Status written = WriteRows(store_, writer, [&](BatchRows& rows) { rows.Put(Cf::kMeta, row, json); });
    if (!written.ok()) return written;
    // Written, then fsynced apart: a synced write would hold RocksDB's write queue, and with it
    // every verify the I/O threads write meanwhile, for the whole fsync (~20-30 ms measured, the
    // projection checkpoint just written being in the same WAL). SyncWal blocks no writer.
    if (Status s = store_.SyncWal(); !s.ok()) return s;
  }
  return Status::Ok();
}

void Ledger::Tick() {
  AppendRequest request;
  request.prepare = [](AppendContext&) { return Result<std::vector<PendingEvent>>(std::vector<PendingEvent>()); };
  request.done = [](const Status&, uint64_t, uint64_t) {};
  appender_->Submit(std::move(request));
}

Result<Principal> Ledger::Authenticate(std::string_view token, std::string_view actor) const {
  if (!CheckToken(token)) return Status::Unauthorized();
  const Digest digest = TokenDigest(token);
  std::shared_lock lock(state_mutex_);
  const std::optional<KeyIndex> index = state_.IndexOfDigest(digest);
  if (!index) return Status::Unauthorized();
  const KeyRecord& key = state_.Record(*index);
  if (CRYPTO_memcmp(key.digest.data(), digest.data(), digest.size()) != 0 ||
      key.kind == KeyKind::kApi || key.EffectiveStatus(clock_.Now()) != KeyStatus::kActive) {
    return Status::Unauthorized();
  }
  Principal p;
  p.kind = key.kind;
  p.key_id = state_.IdOf(key);
  p.workspace = state_.WorkspaceOf(key);
  p.role = key.extra ? std::string(key.extra->Text(ExtraText::kRole)) : std::string();
  p.actor = actor.empty() ? p.key_id : std::string(actor);
  return p;
}

KeyState Ledger::ViewKey(KeyState key, TimeMs at) const {
  key.status = key.EffectiveStatus(at != 0 ? at : clock_.Now());
  key.digest = Digest{};
  key.idempotency_key.clear();
  key.request_digest = Digest{};
  key.usage.clear();
  return key;
}

Digest Ledger::Fingerprint() const {
  std::shared_lock lock(state_mutex_);
  return state_.Fingerprint();
}

TimeMs Ledger::NextDeadline() const {
  std::shared_lock lock(state_mutex_);
  return state_.NextDeadline();
}

}  // namespace keyledger
