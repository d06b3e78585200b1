#include "projections/audit_query.h"

#include <charconv>

#include "events/codec.h"

namespace keyledger {
Result<uint64_t> ParseCursor(std::string_view cursor) {
  if (cursor.empty()) return uint64_t{0};
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), value);
  if (ec != std::errc() || end != cursor.data() + cursor.size()) {
    return Status::Invalid("The cursor is not one this service issued.", "cursor");
  }
  return value;
}

namespace {

// What follows the owner in an index row's key: lifecycle events, or uses.
constexpr char kLifecycleRows = '\0';
constexpr char kUseRows = '\1';

std::string IndexKey(std::string_view owner, char kind, uint64_t seq) {
  std::string key;
  key.reserve(owner.size() + 9);
  key.append(owner).push_back(kind);
  key.append(EncodeSeq(seq));
  return key;
}

}  // namespace

std::string AuditIndexKey(std::string_view owner, EventType type, uint64_t seq) {
  return IndexKey(owner, type == EventType::kKeyUsed ? kUseRows : kLifecycleRows, seq);
}

std::vector<EventType> AllEventTypes() {
  std::vector<EventType> types;
  for (size_t t = 0; t < kEventTypeCount; ++t) types.push_back(static_cast<EventType>(t));
  return types;
}

namespace {

// Reads the rows of `q`'s owner with seqs in [first, end) into `page`, in q's order.
Status ScanInto(const EventStore& store, std::string_view ws, const EventQuery& q, uint64_t first,
                uint64_t end, EventPage& page) {
  bool wanted[kEventTypeCount] = {};
  for (size_t t = 0; t < kEventTypeCount; ++t) wanted[t] = q.types.empty();
  if (q.types.empty()) wanted[static_cast<size_t>(EventType::kKeyUsed)] = false;
  for (EventType t : q.types) wanted[static_cast<size_t>(t)] = true;

  // One key range per kind of row scanned: the owner's lifecycle rows (and the uses of logs
  // written before uses had rows of their own), and its uses, read only when uses are wanted.
  const std::string_view owner = q.key_id.empty() ? ws : std::string_view(q.key_id);
  const Cf index = q.key_id.empty() ? Cf::kByWorkspace : Cf::kByKey;
  const std::string lifecycle_from = IndexKey(owner, kLifecycleRows, first);
  const std::string lifecycle_to = IndexKey(owner, kLifecycleRows, end);
  const std::string uses_from = IndexKey(owner, kUseRows, first);
  const std::string uses_to = IndexKey(owner, kUseRows, end);
  std::vector<EventStore::KeyRange> ranges = {{lifecycle_from, lifecycle_to}};
  if (wanted[static_cast<size_t>(EventType::kKeyUsed)]) ranges.push_back({uses_from, uses_to});

  page.cut_short = false;
  Status failure;
  size_t rows = 0;
  auto visit = [&](std::string_view key, std::string_view value) {
    if (q.max_rows != 0 && ++rows > q.max_rows) {
      page.cut_short = true;
      return false;
    }
    const uint64_t seq = DecodeSeq(key.substr(owner.size() + 1));
    page.scanned_to = seq;
    if (value.size() != 1 || static_cast<size_t>(value[0]) >= kEventTypeCount ||
        !wanted[static_cast<size_t>(value[0])]) {
      return true;
    }
    auto row = store.Get(Cf::kEvents, EncodeSeq(seq));
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
  Status scanned = store.ScanBySeq(index, ranges, q.descending, visit);
  if (!scanned.ok()) return scanned;
  return failure;
}

}  // namespace

Result<EventPage> QueryEvents(const EventStore& store, std::string_view ws, const EventQuery& q) {
  if (q.limit == 0) return Status::Invalid("limit must be at least 1.", "limit");
  auto cursor = ParseCursor(q.cursor);
  if (!cursor.ok()) return cursor.status();
  if (*cursor == UINT64_MAX) return EventPage{};  // nothing lies beyond the last possible seq
  // The seqs [first, end) this page may hold.
  uint64_t first = 0;
  uint64_t end = UINT64_MAX;
  if (*cursor != 0) {
    if (q.descending) {
      end = *cursor;
    } else {
      first = *cursor + 1;
    }
  }
  EventPage page;
  if (Status s = ScanInto(store, ws, q, first, end, page); !s.ok()) return s;
  return page;
}

Status ContinueQuery(const EventStore& store, std::string_view ws, const EventQuery& q, EventPage& page) {
  // The cursor bounded only the side the scan started from: what is left lies past scanned_to.
  if (q.descending) return ScanInto(store, ws, q, 0, page.scanned_to, page);
  if (page.scanned_to == UINT64_MAX) {
    page.cut_short = false;
    return Status::Ok();
  }
  return ScanInto(store, ws, q, page.scanned_to + 1, UINT64_MAX, page);
}

}  // namespace keyledger
