#include "projections/point_in_time.h"

#include "events/codec.h"
#include "projections/checkpoint.h"

namespace keyledger {

Result<LedgerState> StateAsOf(const EventStore& store, TimeMs as_of) {
  StateAsOfSteps build(store, as_of, 0);
  while (!build.Step()) {
  }
  if (!build.status().ok()) return build.status();
  return std::move(build.state());
}

bool StateAsOfSteps::Step() {
  if (done_) return true;
  if (!loaded_) {
    loaded_ = true;
    auto checkpoint = LoadProjectionCheckpoint(store_, as_of_);
    if (!checkpoint.ok()) {
      status_ = checkpoint.status();
      return done_ = true;
    }
    if (checkpoint->has_value()) state_ = std::move(**checkpoint);
    return false;
  }
  const uint64_t to_seq = events_per_step_ == 0 ? 0 : state_.applied_seq() + events_per_step_;
  status_ = ReplayInto(store_, state_, to_seq, as_of_);
  // Short of to_seq: the replay met the log's end or an event after as_of.
  done_ = !status_.ok() || to_seq == 0 || state_.applied_seq() < to_seq;
  return done_;
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
