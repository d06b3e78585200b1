#pragma once
// What the ledger said at an instant: the projection state built from exactly the events with
// ts <= as_of. Starts from the newest projection checkpoint taken at or before the instant (so the
// cost grows with the events after it, not with the whole log) and replays the rest.

#include "core/clock.h"
#include "core/status.h"
#include "events/store.h"
#include "projections/ledger_state.h"

namespace keyledger {

// as_of before the first event gives an empty state.
Result<LedgerState> StateAsOf(const EventStore& store, TimeMs as_of);

// The state after exactly the events 1..seq (0: the whole log), from the nearest checkpoint.
Result<LedgerState> StateAtSeq(const EventStore& store, uint64_t seq);

}  // namespace keyledger
