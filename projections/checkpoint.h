#pragma once
// Projection checkpoints: the serialized LedgerState and the seq, hash and ts of the event it
// reflects, so start-up replays only the log after the newest one, and point-in-time queries start
// from the newest one at or before their instant.
//
// Rows in column family `meta`: a header "projection_checkpoint/" ‖ 8-byte BE ts ‖ 8-byte BE seq →
//   bytes 0..7    seq, big-endian
//   bytes 8..39   hash of event `seq` (raw); a checkpoint whose hash no longer matches the log is
//                 ignored and the projections are rebuilt from an older one or from seq 1
//   bytes 40..47  ts of event `seq` (ms), big-endian
//   bytes 48..55  number of chunks, big-endian
//   bytes 56..63  size of LedgerState::Serialize(), big-endian
// and the serialized state in chunks "projection_chunk/" ‖ ts ‖ seq ‖ 8-byte BE chunk number
// (64 KiB each when written; a reader takes any size), each written on its own before the header
// (a million keys serialize to ~150 MB: one write that size would hold RocksDB's write queue, and
// every verify behind it, for a long time; a live ledger puts each chunk in one of its appender's
// batches). ts never decreases along the log, so header order is
// seq order. The newest kKeptProjectionCheckpoints are kept; when a new one is written, older
// headers are deleted, and so is every chunk row older than the oldest header kept (one range
// deletion, which also takes chunks whose header a crash prevented).

#include <functional>
#include <optional>

#include "core/signing.h"
#include "core/status.h"
#include "events/appender.h"
#include "events/store.h"
#include "projections/ledger_state.h"

namespace keyledger {

inline constexpr size_t kKeptProjectionCheckpoints = 8;

// What a checkpoint stores: the state frozen at an event, and that event. Taken on the thread
// that owns the state (in a few ms: see FrozenLedgerState); serialized and written from any thread.
struct CheckpointSnapshot {
  uint64_t seq = 0;
  TimeMs ts = 0;
  Digest head_hash{};       // hash of event `seq`
  FrozenLedgerState state;  // as of event `seq`
};
CheckpointSnapshot TakeCheckpointSnapshot(const LedgerState& state, const Digest& head_hash);

// Writes the rows that `fill` puts, atomically. The default, an empty RowsWriter, is a store write
// of their own; a live ledger passes one that hands them to its appender, so that checkpoint rows
// go in the single writer's batches instead of waiting in (and holding) RocksDB's write queue beside
// it: the writer would otherwise wait for a background thread at idle priority.
using RowsWriter = std::function<Status(const std::function<void(BatchRows&)>& fill)>;
Status WriteRows(EventStore& store, const RowsWriter& writer, const std::function<void(BatchRows&)>& fill);

// Serializes the snapshot's state on the calling thread, writing each 64 KiB as it is made (so
// the whole serialization is never in memory), then the header; reads the old checkpoints'
// headers from `store`, writes through `writer`. Returns the SHA-256 of the serialized state: the
// projection digest a signed chain checkpoint carries.
Result<Digest> SaveProjectionCheckpoint(EventStore& store, CheckpointSnapshot snapshot,
                                        const RowsWriter& writer = {});
inline Result<Digest> SaveProjectionCheckpoint(EventStore& store, const LedgerState& state,
                                               const Digest& head_hash) {
  return SaveProjectionCheckpoint(store, TakeCheckpointSnapshot(state, head_hash));
}

// The newest checkpoint that matches the log — of those taken at or before `at_or_before` when
// given — or nullopt (mismatches are logged and skipped). With `vouched_by`, only a checkpoint
// whose serialized state has the projection digest of a chain checkpoint at its seq signed by
// that key: the projection rows are not in the hash chain, and one edited byte (a revoked key's
// status) would otherwise come back to life at the next start.
Result<std::optional<LedgerState>> LoadProjectionCheckpoint(
    const EventStore& store, std::optional<TimeMs> at_or_before = std::nullopt,
    const PublicKey* vouched_by = nullptr);

// Applies the events after state.applied_seq() to `state`, checking that seqs are contiguous and
// each prev_hash links; stops after `to_seq` (0: no limit) or before the first event with
// ts > `until_ts`.
Status ReplayInto(const EventStore& store, LedgerState& state, uint64_t to_seq = 0,
                  std::optional<TimeMs> until_ts = std::nullopt);

}  // namespace keyledger
