// Reads. Each checks the principal's right first (workspace isolation included), then reads the
// projections under a shared lock or the audit indexes in RocksDB; none waits for a write.

#include <charconv>
#include <limits>

#include "events/codec.h"
#include "projections/point_in_time.h"
#include "projections/ledger.h"

namespace keyledger {
namespace {

bool Matches(KeyFilter filter, KeyStatus status) {
  switch (filter) {
    case KeyFilter::kActive: return status == KeyStatus::kActive;
    case KeyFilter::kExpired: return status == KeyStatus::kExpired;
    case KeyFilter::kRevoked: return status == KeyStatus::kRevoked;
    case KeyFilter::kAll: return true;
  }
  return false;
}

}  // namespace

Result<KeyState> Ledger::FindApiKeyIn(const LedgerState& state, std::string_view ws,
                                      std::string_view key_id) {
  std::optional<KeyState> key = state.FindKey(key_id);
  if (!key || key->kind != KeyKind::kApi || key->workspace != ws) {
    return Status::NotFound("Key not found.");
  }
  return std::move(*key);
}

Result<KeyState> Ledger::FindApiKey(std::string_view ws, std::string_view key_id) const {
  return FindApiKeyIn(state_, ws, key_id);
}

Status Ledger::CheckAsOf(TimeMs as_of) const {
  if (as_of > clock_.Now()) return Status::Invalid("as_of must not be in the future.", "as_of");
  return Status::Ok();
}

Result<LedgerState> Ledger::StateAt(TimeMs as_of) const {
  if (Status s = CheckAsOf(as_of); !s.ok()) return s;
  return StateAsOf(store_, as_of);
}

Result<uint64_t> Ledger::CheckListing(const Principal& p, std::string_view ws, size_t limit,
                                      std::string_view cursor, std::optional<TimeMs> as_of) const {
  if (Status s = Authorize(p, Action::kReadKeys, ws); !s.ok()) return s;
  if (limit == 0) return Status::Invalid("limit must be at least 1.", "limit");
  if (as_of) {
    if (Status s = CheckAsOf(*as_of); !s.ok()) return s;
  }
  return ParseCursor(cursor);
}

Result<KeyState> Ledger::KeyAt(const LedgerState& state, std::string_view ws,
                               std::string_view key_id, TimeMs at) const {
  auto key = FindApiKeyIn(state, ws, key_id);
  if (!key.ok()) return key.status();
  return ViewKey(std::move(key).value(), at);
}

Result<WorkspaceState> Ledger::GetWorkspace(const Principal& p, std::string_view ws) const {
  if (Status s = Authorize(p, Action::kReadWorkspace, ws); !s.ok()) return s;
  std::shared_lock lock(state_mutex_);
  const WorkspaceState* workspace = state_.FindWorkspace(ws);
  if (!workspace) return Status::NotFound("Workspace not found.");
  return WorkspaceView(*workspace);
}

Result<KeyState> Ledger::GetKey(const Principal& p, std::string_view ws, std::string_view key_id,
                                std::optional<TimeMs> as_of) const {
  if (Status s = Authorize(p, Action::kReadKeys, ws); !s.ok()) return s;
  if (as_of) {
    auto state = StateAt(*as_of);
    if (!state.ok()) return state.status();
    return KeyAt(*state, ws, key_id, *as_of);
  }
  std::shared_lock lock(state_mutex_);
  auto key = FindApiKey(ws, key_id);
  if (!key.ok()) return key.status();
  return ViewKey(std::move(key).value());
}

Result<KeyPage> Ledger::ListKeys(const Principal& p, std::string_view ws, KeyFilter filter,
                                 size_t limit, std::string_view cursor,
                                 std::optional<TimeMs> as_of) const {
  auto start = CheckListing(p, ws, limit, cursor, as_of);
  if (!start.ok()) return start.status();
  if (as_of) {
    if (Status s = CheckWorkspaceExists(ws); !s.ok()) return s;
    auto state = StateAsOf(store_, *as_of);
    if (!state.ok()) return state.status();
    if (!state->FindWorkspace(ws)) return KeyPage{};  // created after as_of: it had no keys then
    return ListKeysIn(*state, ws, filter, limit, *start, *as_of);
  }
  const TimeMs now = clock_.Now();
  std::shared_lock lock(state_mutex_);
  return ListKeysIn(state_, ws, filter, limit, *start, now);
}

template <typename T>
void Ledger::AnswerAsOf(TimeMs as_of, std::function<Result<T>(const LedgerState&)> read,
                        Callback<T> done) {
  auto build = std::make_shared<StateAsOfSteps>(store_, as_of);
  AnswerInSteps<T>(
      [build, read = std::move(read)]() -> std::optional<Result<T>> {
        if (!build->Step()) return std::nullopt;
        if (!build->status().ok()) return Result<T>(build->status());
        return read(build->state());
      },
      std::move(done));
}

void Ledger::GetKey(const Principal& p, std::string ws, std::string key_id,
                    std::optional<TimeMs> as_of, Callback<KeyState> done) {
  if (!as_of) return done(GetKey(p, ws, key_id));
  if (Status s = Authorize(p, Action::kReadKeys, ws); !s.ok()) return done(s);
  if (Status s = CheckAsOf(*as_of); !s.ok()) return done(s);
  AnswerAsOf<KeyState>(
      *as_of,
      [this, ws = std::move(ws), key_id = std::move(key_id), at = *as_of](const LedgerState& state) {
        return KeyAt(state, ws, key_id, at);
      },
      std::move(done));
}

void Ledger::ListKeys(const Principal& p, std::string ws, KeyFilter filter, size_t limit,
                      std::string cursor, std::optional<TimeMs> as_of, Callback<KeyPage> done) {
  auto start = CheckListing(p, ws, limit, cursor, as_of);
  if (!start.ok()) return done(start.status());
  if (as_of) {
    if (Status s = CheckWorkspaceExists(ws); !s.ok()) return done(s);
    return AnswerAsOf<KeyPage>(
        *as_of,
        [this, ws = std::move(ws), filter, limit, start = *start, at = *as_of](const LedgerState& state) {
          // A workspace created after as_of had no keys then.
          if (!state.FindWorkspace(ws)) return Result<KeyPage>(KeyPage{});
          return ListKeysIn(state, ws, filter, limit, start, at);
        },
        std::move(done));
  }
  KeyListing listing{filter, limit, clock_.Now(), *start, {}};
  // The first chunk here (ListKeysStep takes no priority off the read thread); the answer is
  // built after the state's lock is released.
  if (std::optional<Result<KeyPage>> page = ListKeysStep(ws, listing)) return done(std::move(*page));
  AnswerInSteps<KeyPage>(
      [this, ws = std::move(ws), listing = std::move(listing)]() mutable {
        return ListKeysStep(ws, listing);
      },
      std::move(done));
}

Status Ledger::CheckWorkspaceExists(std::string_view ws) const {
  std::shared_lock lock(state_mutex_);
  return state_.FindWorkspace(ws) ? Status::Ok() : Status::NotFound("Workspace not found.");
}

Result<KeyPage> Ledger::ListKeysIn(const LedgerState& state, std::string_view ws, KeyFilter filter,
                                   size_t limit, uint64_t start, TimeMs at) const {
  const WorkspaceState* workspace = state.FindWorkspace(ws);
  if (!workspace) return Status::NotFound("Workspace not found.");
  KeyListing listing{filter, limit, at, start, {}};
  const size_t unbounded = std::numeric_limits<size_t>::max();
  ListKeysChunk(state, *workspace, listing, unbounded, unbounded);
  return std::move(listing.page);
}

bool Ledger::ListKeysChunk(const LedgerState& state, const WorkspaceState& ws, KeyListing& listing,
                           size_t max_reads, size_t max_views) const {
  const std::vector<KeyIndex>& keys = ws.keys;
  KeyPage& page = listing.page;
  size_t& i = listing.next;
  const size_t end = i + std::min(max_reads, keys.size() - std::min(i, keys.size()));
  for (size_t views = 0; i < end; ++i) {
    const KeyRecord& key = state.Record(keys[i]);
    if (key.kind != KeyKind::kApi || !Matches(listing.filter, key.EffectiveStatus(listing.at))) {
      continue;
    }
    if (page.keys.size() == listing.limit) {
      page.next_cursor = std::to_string(i);
      return true;
    }
    if (views == max_views) return false;
    page.keys.push_back(ViewKey(state.Key(keys[i], LedgerState::Usage::kOmit), listing.at));
    ++views;
  }
  return i >= keys.size();
}

std::optional<Result<KeyPage>> Ledger::ListKeysStep(std::string_view ws, KeyListing& listing) {
  const ReadThread::Urgency urgent = long_reads_.Urgent();  // ends after the lock is released
  std::shared_lock lock(state_mutex_);
  const WorkspaceState* workspace = state_.FindWorkspace(ws);
  if (!workspace) return Result<KeyPage>(Status::NotFound("Workspace not found."));
  if (!ListKeysChunk(state_, *workspace, listing, kListKeysChunkReads, kListKeysChunkViews)) {
    return std::nullopt;
  }
  return Result<KeyPage>(std::move(listing.page));
}

void Ledger::Review(const Principal& p, std::string ws, Callback<WorkspaceReview> done) {
  if (Status s = Authorize(p, Action::kReadKeys, ws); !s.ok()) return done(s);
  AnswerInSteps<WorkspaceReview>(
      [this, walk = ReviewWalk{std::move(ws)}]() mutable { return ReviewStep(walk); },
      std::move(done));
}

std::optional<Result<WorkspaceReview>> Ledger::ReviewStep(ReviewWalk& walk) {
  if (!walk.started) {
    walk.started = true;
    walk.review.generated_at = clock_.Now();  // the instant every key is judged against
  }
  const ReadThread::Urgency urgent = long_reads_.Urgent();  // ends after the lock is released
  std::shared_lock lock(state_mutex_);
  if (walk.next == 0 && !state_.FindWorkspace(walk.ws)) {
    return Result<WorkspaceReview>(Status::NotFound("Workspace not found."));
  }
  if (ReviewWorkspaceChunk(state_, walk.ws, walk.review.generated_at, kReviewChunkKeys, walk.next,
                           walk.review.findings)) {
    return std::nullopt;
  }
  return Result<WorkspaceReview>(std::move(walk.review));
}

Result<ChainCheckpoint> Ledger::NewestSignedHead() const {
  auto latest = LatestChainCheckpoint(store_);
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) return Status::NotFound("No signed checkpoint has been written yet.");
  return **latest;
}

void Ledger::SignedHead(const Principal& p, Callback<ChainCheckpoint> done) {
  if (Status s = Authorize(p, Action::kReadLedger, ""); !s.ok()) return done(s);
  if (closing_.load(std::memory_order_acquire)) {
    return done(Status::Unavailable("The service is stopping; try again shortly."));
  }
  const uint64_t head = head_seq();  // everything acknowledged before the request
  {
    std::lock_guard lock(signed_mutex_);
    if (options_.signing_key && signed_seq_ < head) {
      head_waiters_.push_back({head, std::move(done)});
      if (head_wanted_.load(std::memory_order_relaxed) < head) head_wanted_.store(head, std::memory_order_relaxed);
      done = nullptr;
    }
  }
  if (done) return done(NewestSignedHead());
  Tick();  // the appender thread's next turn starts the checkpoint (BeforeBatch)
}

Result<UsageReport> Ledger::Usage(const Principal& p, std::string_view ws, std::string_view key_id,
                                  const UsageQuery& q) const {
  if (Status s = Authorize(p, Action::kReadKeys, ws); !s.ok()) return s;
  std::shared_lock lock(state_mutex_);
  auto key = FindApiKey(ws, key_id);
  if (!key.ok()) return key.status();
  UsageReport report;
  report.last_used_at = key->last_used_at;
  const TimeMs width = q.daily ? kDayMs : kHourMs;
  for (const UsageBucket& b : key->usage) {
    if (q.from && b.hour_start + kHourMs <= *q.from) continue;
    if (q.to && b.hour_start >= *q.to) break;
    report.total += b.count;
    report.rejected += b.rejected;
    const TimeMs start = b.hour_start - b.hour_start % width;
    if (report.buckets.empty() || report.buckets.back().hour_start != start) {
      report.buckets.push_back({start, 0, 0});
    }
    report.buckets.back().count += b.count;
    report.buckets.back().rejected += b.rejected;
  }
  return report;
}

Result<EventPage> Ledger::Audit(const Principal& p, std::string_view ws, const EventQuery& q) const {
  if (Status s = Authorize(p, Action::kReadKeys, ws); !s.ok()) return s;
  if (!q.key_id.empty()) {
    std::shared_lock lock(state_mutex_);
    if (auto key = FindApiKey(ws, q.key_id); !key.ok()) return key.status();
  }
  return QueryEvents(store_, ws, q);
}

void Ledger::Audit(const Principal& p, std::string ws, EventQuery q, Callback<EventPage> done) {
  EventQuery bounded = q;
  bounded.max_rows = kAuditInlineRows;
  Result<EventPage> page = Audit(p, ws, bounded);
  if (!page.ok() || !page->cut_short) return done(std::move(page));
  // The rest on the read thread, kAuditStepRows index rows a step.
  bounded.max_rows = kAuditStepRows;
  AnswerInSteps<EventPage>(
      [this, ws = std::move(ws), q = std::move(bounded),
       page = std::move(page).value()]() mutable -> std::optional<Result<EventPage>> {
        if (Status s = ContinueQuery(store_, ws, q, page); !s.ok()) return Result<EventPage>(s);
        if (page.cut_short) return std::nullopt;
        return Result<EventPage>(std::move(page));
      },
      std::move(done));
}

Result<EventPage> Ledger::Events(const Principal& p, uint64_t after, size_t limit) const {
  if (Status s = Authorize(p, Action::kReadLedger, ""); !s.ok()) return s;
  EventPage page;
  page.last_seq = after;
  // Nothing can follow the last possible seq (after + 1 would wrap to 0 and restart the stream),
  // and a zero limit asks for nothing.
  if (after == UINT64_MAX || limit == 0) return page;
  Status scanned = store_.Scan(Cf::kEvents, EncodeSeq(after + 1), "",
                               [&](std::string_view key, std::string_view value) {
    auto parts = SplitStoredValue(value);
    if (!parts.ok()) return false;
    page.events.push_back(EventToApiJson(parts->body, parts->hash));
    page.last_seq = DecodeSeq(key);
    return page.events.size() < limit;
  });
  if (!scanned.ok()) return scanned;
  return page;
}

}  // namespace keyledger
