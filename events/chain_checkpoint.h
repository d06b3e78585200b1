#pragma once
// Signed chain-head checkpoints: the service's signed statement "the log up to seq N has head hash
// H, and the projections at N have digest P". A reviewer holding the public key can then prove
// that no event at or before N was edited, removed or reordered since, and that the log was not
// cut short of N (keyledger verify-log).
//
// Rows in column family `meta`: "chain_checkpoint/" ‖ 8-byte BE seq → JSON
//   {"seq":N,"hash":"<64 hex>","ts":"<RFC 3339>","projection_digest":"<64 hex>",
//    "public_key":"<64 hex>","signature":"<128 hex>"}
// The signature is Ed25519 over SignedMessage():
//   "keyledger checkpoint v1\nseq=N\nhash=<hex>\nts=<RFC 3339>\nprojection_digest=<hex>\n"

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/sha256.h"
#include "core/signing.h"
#include "core/status.h"
#include "events/store.h"

namespace keyledger {

struct ChainCheckpoint {
  uint64_t seq = 0;
  Digest hash{};
  TimeMs ts = 0;
  Digest projection_digest{};
  PublicKey public_key{};
  std::string signature;  // 64 raw bytes

  std::string SignedMessage() const;
  std::string ToJson() const;
  static Result<ChainCheckpoint> FromJson(std::string_view json);
  // True when the signature is valid for `key` (and `key` is the one the checkpoint names).
  bool VerifiedBy(const PublicKey& key) const;
};

ChainCheckpoint SignChainCheckpoint(const SigningKey& key, uint64_t seq, const Digest& hash, TimeMs ts,
                                    const Digest& projection_digest);

std::string ChainCheckpointRow(uint64_t seq);
inline constexpr std::string_view kChainCheckpointPrefix = "chain_checkpoint/";

struct StoredChainCheckpoint {
  uint64_t row_seq = 0;  // from the row key
  Result<ChainCheckpoint> checkpoint = Status::Invalid("unread");
};
// Every checkpoint row, in seq order; a row that does not parse is returned with its error.
Result<std::vector<StoredChainCheckpoint>> ReadChainCheckpoints(const EventStore& store);
// The newest checkpoint that parses, or nullopt.
Result<std::optional<ChainCheckpoint>> LatestChainCheckpoint(const EventStore& store);

// Ok when the log still holds the event the newest checkpoint row vouches for, with that hash (or
// there is no checkpoint). Otherwise the log was cut short or altered while no service ran on it,
// and the error says so: a service that then signed a new head would bury the evidence, since
// verify-log checks the log against the checkpoints it finds. (The whole chain is verify-log's
// job; this is the constant-time check a start can afford.)
Status CheckLogHoldsNewestCheckpoint(const EventStore& store);

}  // namespace keyledger
