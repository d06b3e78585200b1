#pragma once
// Projection checkpoints: the serialized LedgerState and the seq and hash of the event it
// reflects, so start-up replays only the log after it.
//
// Row `projection_checkpoint` in column family `meta`:
//   bytes 0..7    seq, big-endian
//   bytes 8..39   hash of event `seq` (raw); a checkpoint whose hash no longer matches the log is
//                 ignored and the projections are rebuilt from seq 1
//   bytes 40..    LedgerState::Serialize()

#include <optional>

#include "core/status.h"
#include "events/store.h"
#include "projections/ledger_state.h"

namespace keyledger {

Status SaveProjectionCheckpoint(EventStore& store, const LedgerState& state, const Digest& head_hash);

// nullopt when there is none, or when it does not match the log (logged).
Result<std::optional<LedgerState>> LoadProjectionCheckpoint(const EventStore& store);

// Applies every event after state.applied_seq() up to `to_seq` (0: the end) to `state`, checking
// that seqs are contiguous and each prev_hash matches.
Status ReplayInto(const EventStore& store, LedgerState& state, uint64_t to_seq = 0);

}  // namespace keyledger
