#pragma once
// Reading the audit indexes: a workspace's timeline, or one key's history, filtered by type,
// actor and time, in either order, paginated by seq. The service (Ledger::Audit) and the offline
// tools (keyledger audit) share it. No authorization here: callers check it.

#include <string>
#include <vector>

#include "core/status.h"
#include "events/event.h"
#include "events/store.h"

namespace keyledger {

struct EventQuery {
  std::string key_id;            // empty: the whole workspace
  std::vector<EventType> types;  // empty: all but key.used
  std::string actor;
  std::optional<TimeMs> from;    // inclusive
  std::optional<TimeMs> to;      // inclusive
  bool descending = false;
  size_t limit = 50;             // REQUIRES: >= 1
  std::string cursor;            // next_cursor of the previous page
  // 0: no bound. Otherwise the scan stops after this many index rows and the page says cut_short
  // (its events are then incomplete): for a caller that must not scan for long, since filters
  // that match rarely (actor, from/to, a rare type) read every row of the owner's range.
  size_t max_rows = 0;
};

struct EventPage {
  std::vector<std::string> events;  // `<Event>` JSON each
  std::string next_cursor;          // empty at the end
  uint64_t last_seq = 0;
  bool cut_short = false;           // the scan reached EventQuery::max_rows first
  uint64_t scanned_to = 0;          // the seq of the last index row read
};

// Parses a next_cursor this service issued (a decimal position); InvalidArgument naming `cursor`
// otherwise. Empty is the start.
Result<uint64_t> ParseCursor(std::string_view cursor);

// Every type, key.used included.
std::vector<EventType> AllEventTypes();

Result<EventPage> QueryEvents(const EventStore& store, std::string_view workspace, const EventQuery& query);

// Goes on with a page that QueryEvents or ContinueQuery cut short (`query` the same, max_rows
// included), from the index row after the last one read; cut_short again if the rest exceeds
// max_rows. A query run so, step by step, gives exactly the page QueryEvents gives without
// max_rows over the same rows.
Status ContinueQuery(const EventStore& store, std::string_view workspace, const EventQuery& query,
                     EventPage& page);

// The key of an event's row in an audit index (layout: events/store.h), `owner` being its
// workspace (by_workspace) or its key (by_key). Uses are indexed apart from lifecycle events, so
// that a query that leaves them out (a workspace's timeline by default, a key's history filtered
// by type) never reads past the millions of uses a busy key makes between two lifecycle events
// (it did: 0.62 s for a timeline page after 590 k uses, on the thread serving verifies).
std::string AuditIndexKey(std::string_view owner, EventType type, uint64_t seq);

}  // namespace keyledger
