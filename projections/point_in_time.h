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

// StateAsOf in steps, for a thread that takes turns with other work (ReadThread::RunInSteps):
// the first step loads the checkpoint, each later one replays at most `events_per_step` events
// (0: all of them). The log before `as_of` no longer changes, so steps may be far apart.
class StateAsOfSteps {
 public:
  // 50-90 ms of replay. Each step starts a replay of its own (a new read-ahead iterator, a new
  // pipeline): a whole replay of bench/run's 10 M-event ledger took 11.2-11.9 s at 16,384 events
  // a step, 7.3-7.6 s at 65,536, 6.6-7.6 s at 131,072, and 5.5-7.5 s in one step
  // (/tmp scratch program calling ReplayInto so, alternated runs on a busy host).
  static constexpr uint64_t kEventsPerStep = 131072;

  StateAsOfSteps(const EventStore& store, TimeMs as_of, uint64_t events_per_step = kEventsPerStep)
      : store_(store), as_of_(as_of), events_per_step_(events_per_step) {}
  // Does the next part; true once the state is built, or failed (status()).
  bool Step();
  const Status& status() const { return status_; }
  LedgerState& state() { return state_; }

 private:
  const EventStore& store_;
  const TimeMs as_of_;
  const uint64_t events_per_step_;
  bool loaded_ = false;
  bool done_ = false;
  Status status_;
  LedgerState state_;
};

// The state after exactly the events 1..seq (0: the whole log), from the nearest checkpoint.
Result<LedgerState> StateAtSeq(const EventStore& store, uint64_t seq);

}  // namespace keyledger
