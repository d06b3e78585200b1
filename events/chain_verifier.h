#pragma once
// Offline verification of the whole log: every event's hash, every link, the sequence without gaps
// or reordering, and every signed checkpoint (events/chain_checkpoint.h). Reads only; safe beside a
// running server on a read-only store.
//
// Findings name the first affected sequence number:
//   edited event (any byte, hash not recomputed)   that event: its hash no longer matches
//   edited and re-hashed event                     that event: the next event no longer links to it
//   deleted event                                  the missing seq
//   swapped or moved events                        the first seq holding another event's body
//   truncated tail                                 the first seq missing before a signed checkpoint
//   forged or altered checkpoint                   the checkpoint's seq

#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/sha256.h"
#include "core/signing.h"
#include "core/status.h"
#include "events/chain_checkpoint.h"
#include "events/store.h"

namespace keyledger {

struct ChainFinding {
  uint64_t seq = 0;
  std::string what;  // one sentence for a reviewer
};

struct ChainReport {
  uint64_t events = 0;  // events read
  uint64_t head_seq = 0;
  Digest head_hash{};
  TimeMs head_ts = 0;
  uint64_t checkpoints = 0;  // signed checkpoints checked
  uint64_t last_checkpoint_seq = 0;
  std::vector<ChainFinding> findings;  // sorted by seq; empty when the log is intact
};

struct ChainVerifyOptions {
  // The keys checkpoints must be signed with, in the order the service used them, oldest first
  // (a deliberate change of key, `serve --new-signing-key`, adds one). A checkpoint signed by no
  // key of these is forged; so is one signed by a key older than an earlier checkpoint's: a key
  // that was replaced (perhaps because it leaked) cannot vouch for the history after the change.
  // Empty: each checkpoint is checked against the key it names, and all must name the same key:
  // proof against edits, not against an attacker who re-signs everything with a key of their own.
  std::vector<PublicKey> trusted_keys;
  // Checkpoints held outside the data directory (GET /admin/v1/checkpoint answers, saved by a
  // reviewer), checked as those in the log are: whoever deletes checkpoint rows together with the
  // tail they vouch for cannot hide the cut from one kept elsewhere.
  std::vector<ChainCheckpoint> held_checkpoints;
  // Called every `progress_every` events with the seq reached.
  std::function<void(uint64_t seq)> progress;
  uint64_t progress_every = 100000;
};

Result<ChainReport> VerifyChain(const EventStore& store, const ChainVerifyOptions& options);

}  // namespace keyledger
