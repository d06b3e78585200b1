// Reads. Each checks the principal's right first (workspace isolation included), then reads the
// projections under a shared lock or the audit indexes in RocksDB; none waits for a write.

#include <charconv>

#include "events/codec.h"
#include "projections/ledger.h"

namespace keyledger {
namespace {

// Cursors are decimal positions or seqs; opaque to clients.
Result<uint64_t> ParseCursor(std::string_view cursor) {
  if (cursor.empty()) return uint64_t{0};
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), value);
  if (ec != std::errc() || end != cursor.data() + cursor.size()) {
    return Status::Invalid("The cursor is not one this service issued.", "cursor");
  }
  return value;
}

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

Result<const KeyState*> Ledger::FindApiKey(std::string_view ws, std::string_view key_id) const {
  const KeyState* key = state_.FindKey(key_id);
  if (!key || key->kind != KeyKind::kApi || key->workspace != ws) {
    return Status::NotFound("Key not found.");
  }
  return key;
}

Result<WorkspaceState> Ledger::GetWorkspace(const Principal& p, std::string_view ws) const {
  if (Status s = Authorize(p, Action::kReadWorkspace, ws); !s.ok()) return s;
  std::shared_lock lock(state_mutex_);
  const WorkspaceState* workspace = state_.FindWorkspace(ws);
  if (!workspace) return Status::NotFound("Workspace not found.");
  return WorkspaceView(*workspace);
}

Result<KeyState> Ledger::GetKey(const Principal& p, std::string_view ws, std::string_view key_id) const {
  if (Status s = Authorize(p, Action::kReadKeys, ws); !s.ok()) return s;
  std::shared_lock lock(state_mutex_);
  auto key = FindApiKey(ws, key_id);
  if (!key.ok()) return key.status();
  return ViewKey(**key);
}

Result<KeyPage> Ledger::ListKeys(const Principal& p, std::string_view ws, KeyFilter filter,
                                 size_t limit, std::string_view cursor) const {
  if (Status s = Authorize(p, Action::kReadKeys, ws); !s.ok()) return s;
  if (limit == 0) return Status::Invalid("limit must be at least 1.", "limit");
  auto start = ParseCursor(cursor);
  if (!start.ok()) return start.status();
  const TimeMs now = clock_.Now();
  std::shared_lock lock(state_mutex_);
  const WorkspaceState* workspace = state_.FindWorkspace(ws);
  if (!workspace) return Status::NotFound("Workspace not found.");
  KeyPage page;
  const auto& ids = workspace->key_ids;
  for (size_t i = *start; i < ids.size(); ++i) {
    const KeyState* key = state_.FindKey(ids[i]);
    if (!key || key->kind != KeyKind::kApi || !Matches(filter, key->EffectiveStatus(now))) continue;
    if (page.keys.size() == limit) {
      page.next_cursor = std::to_string(i);
      break;
    }
    page.keys.push_back(ViewKey(*key));
  }
  return page;
}

Result<UsageReport> Ledger::Usage(const Principal& p, std::string_view ws, std::string_view key_id,
                                  const UsageQuery& q) const {
  if (Status s = Authorize(p, Action::kReadKeys, ws); !s.ok()) return s;
  std::shared_lock lock(state_mutex_);
  auto key = FindApiKey(ws, key_id);
  if (!key.ok()) return key.status();
  UsageReport report;
  report.last_used_at = (*key)->last_used_at;
  const TimeMs width = q.daily ? kDayMs : kHourMs;
  for (const UsageBucket& b : (*key)->usage) {
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
  if (q.limit == 0) return Status::Invalid("limit must be at least 1.", "limit");
  auto cursor = ParseCursor(q.cursor);
  if (!cursor.ok()) return cursor.status();
  if (*cursor == UINT64_MAX) return EventPage{};  // nothing lies beyond the last possible seq

  bool wanted[kEventTypeCount] = {};
  for (size_t t = 0; t < kEventTypeCount; ++t) wanted[t] = q.types.empty();
  if (q.types.empty()) wanted[static_cast<size_t>(EventType::kKeyUsed)] = false;
  for (EventType t : q.types) wanted[static_cast<size_t>(t)] = true;

  const std::string prefix = (q.key_id.empty() ? std::string(ws) : q.key_id) + '\0';
  const Cf index = q.key_id.empty() ? Cf::kByWorkspace : Cf::kByKey;
  std::string from = prefix + EncodeSeq(0);
  std::string to = prefix + EncodeSeq(UINT64_MAX);
  if (*cursor != 0) {
    if (q.descending) {
      to = prefix + EncodeSeq(*cursor);
    } else {
      from = prefix + EncodeSeq(*cursor + 1);
    }
  }

  EventPage page;
  Status failure;
  auto visit = [&](std::string_view key, std::string_view value) {
    if (value.size() != 1 || static_cast<size_t>(value[0]) >= kEventTypeCount ||
        !wanted[static_cast<size_t>(value[0])]) {
      return true;
    }
    const uint64_t seq = DecodeSeq(key.substr(prefix.size()));
    auto row = store_.Get(Cf::kEvents, EncodeSeq(seq));
    if (!row.ok() || !row->has_value()) {
      failure = Status::Internal("the audit index names a missing event");
      return false;
    }
    auto parts = SplitStoredValue(**row);
    if (!parts.ok()) {
      failure = parts.status();
      return false;
    }
    if (q.from || q.to || !q.actor.empty()) {
      auto event = DecodeBody(parts->body, parts->hash);
      if (!event.ok()) {
        failure = event.status();
        return false;
      }
      // ts never decreases along the log, so a range bound passed in scan order ends the scan.
      if (q.to && event->ts > *q.to) return q.descending;
      if (q.from && event->ts < *q.from) return !q.descending;
      if (!q.actor.empty() && event->actor != q.actor) return true;
    }
    if (page.events.size() == q.limit) {
      page.next_cursor = std::to_string(page.last_seq);
      return false;
    }
    page.events.push_back(EventToApiJson(parts->body, parts->hash));
    page.last_seq = seq;
    return true;
  };
  Status scanned = q.descending ? store_.ScanReverse(Cf(index), from, to, visit)
                                : store_.Scan(Cf(index), from, to, visit);
  if (!scanned.ok()) return scanned;
  if (!failure.ok()) return failure;
  return page;
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
