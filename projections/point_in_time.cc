#include "projections/point_in_time.h"

#include "events/codec.h"
#include "projections/checkpoint.h"

namespace keyledger {

Result<LedgerState> StateAsOf(const EventStore& store, TimeMs as_of) {
  auto checkpoint = LoadProjectionCheckpoint(store, as_of);
  if (!checkpoint.ok()) return checkpoint.status();
  LedgerState state = checkpoint->has_value() ? std::move(**checkpoint) : LedgerState();
  if (Status s = ReplayInto(store, state, 0, as_of); !s.ok()) return s;
  return state;
}

Result<LedgerState> StateAtSeq(const EventStore& store, uint64_t seq) {
  // Checkpoints are keyed by time: take the newest at or before event `seq`'s time, and not past
  // `seq` itself (several events can share a millisecond).
  std::optional<TimeMs> bound;
  if (seq != 0) {
    auto row = store.Get(Cf::kEvents, EncodeSeq(seq));
    if (!row.ok()) return row.status();
    if (!row->has_value()) return Status::NotFound("there is no event " + std::to_string(seq));
    auto event = DecodeStoredValue(**row);
    if (!event.ok()) return event.status();
    bound = event->ts;
  }
  auto checkpoint = LoadProjectionCheckpoint(store, bound);
  if (!checkpoint.ok()) return checkpoint.status();
  LedgerState state;
  if (checkpoint->has_value() && (seq == 0 || (**checkpoint).applied_seq() <= seq)) {
    state = std::move(**checkpoint);
  }
  if (Status s = ReplayInto(store, state, seq); !s.ok()) return s;
  return state;
}

}  // namespace keyledger
