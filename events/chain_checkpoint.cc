#include "events/chain_checkpoint.h"

#include <simdjson.h>

#include <functional>

#include "core/hex.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "events/codec.h"

namespace keyledger {

std::string ChainCheckpoint::SignedMessage() const {
  return "keyledger checkpoint v1\nseq=" + std::to_string(seq) + "\nhash=" + ToHex(hash) +
         "\nts=" + FormatRfc3339(ts) + "\nprojection_digest=" + ToHex(projection_digest) + "\n";
}

std::string ChainCheckpoint::ToJson() const {
  JsonWriter w;
  w.BeginObject().Key("seq").Uint(seq).Field("hash", ToHex(hash)).Field("ts", FormatRfc3339(ts));
  w.Field("projection_digest", ToHex(projection_digest)).Field("public_key", PublicKeyToHex(public_key));
  w.Field("signature", BytesToHex(signature)).EndObject();
  return w.Take();
}

Result<ChainCheckpoint> ChainCheckpoint::FromJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(json.data(), json.size()).get_object().get(o) != simdjson::SUCCESS) {
    return Status::Invalid("the checkpoint is not a JSON object");
  }
  ChainCheckpoint c;
  uint64_t seq;
  std::string_view hash, ts, projection, public_key, signature;
  if (o["seq"].get_uint64().get(seq) || o["hash"].get_string().get(hash) ||
      o["ts"].get_string().get(ts) || o["projection_digest"].get_string().get(projection) ||
      o["public_key"].get_string().get(public_key) || o["signature"].get_string().get(signature)) {
    return Status::Invalid("the checkpoint lacks a field");
  }
  auto h = DigestFromHex(hash);
  auto p = DigestFromHex(projection);
  auto t = ParseRfc3339(ts);
  auto k = ParsePublicKey(public_key);
  auto s = HexToBytes(signature);
  if (!h || !p || !t || !k.ok() || !s || s->size() != kSignatureSize) {
    return Status::Invalid("the checkpoint has a malformed field");
  }
  c.seq = seq;
  c.hash = *h;
  c.ts = *t;
  c.projection_digest = *p;
  c.public_key = *k;
  c.signature = std::move(*s);
  return c;
}

bool ChainCheckpoint::VerifiedBy(const PublicKey& key) const {
  return key == public_key && VerifySignature(key, SignedMessage(), signature);
}

ChainCheckpoint SignChainCheckpoint(const SigningKey& key, uint64_t seq, const Digest& hash, TimeMs ts,
                                    const Digest& projection_digest) {
  ChainCheckpoint c;
  c.seq = seq;
  c.hash = hash;
  c.ts = ts;
  c.projection_digest = projection_digest;
  c.public_key = key.public_key();
  c.signature = key.Sign(c.SignedMessage());
  return c;
}

std::string ChainCheckpointRow(uint64_t seq) {
  return std::string(kChainCheckpointPrefix) + EncodeSeq(seq);
}

namespace {

std::string RowsEnd() {
  std::string to(kChainCheckpointPrefix);
  to.back() = static_cast<char>(to.back() + 1);
  return to;
}

StoredChainCheckpoint ParseRow(std::string_view key, std::string_view value) {
  StoredChainCheckpoint stored;
  const std::string_view seq_bytes = key.substr(kChainCheckpointPrefix.size());
  stored.row_seq = seq_bytes.size() == 8 ? DecodeSeq(seq_bytes) : 0;
  stored.checkpoint = ChainCheckpoint::FromJson(value);
  return stored;
}

// Rows newest first, each handed to `take` until it returns false: the newest is found without
// reading (and parsing) the one checkpoint row a minute of activity adds.
Status ScanNewestFirst(const EventStore& store, const std::function<bool(StoredChainCheckpoint)>& take) {
  return store.ScanReverse(Cf::kMeta, kChainCheckpointPrefix, RowsEnd(),
                           [&](std::string_view key, std::string_view value) { return take(ParseRow(key, value)); });
}

}  // namespace

Result<std::vector<StoredChainCheckpoint>> ReadChainCheckpoints(const EventStore& store) {
  std::vector<StoredChainCheckpoint> out;
  Status s = store.Scan(Cf::kMeta, kChainCheckpointPrefix, RowsEnd(),
                        [&](std::string_view key, std::string_view value) {
    out.push_back(ParseRow(key, value));
    return true;
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::optional<ChainCheckpoint>> LatestChainCheckpoint(const EventStore& store) {
  std::optional<ChainCheckpoint> latest;
  Status s = ScanNewestFirst(store, [&](StoredChainCheckpoint stored) {
    if (stored.checkpoint.ok()) latest = std::move(stored.checkpoint).value();
    return !latest.has_value();
  });
  if (!s.ok()) return s;
  return latest;
}

Status CheckLogHoldsNewestCheckpoint(const EventStore& store) {
  std::optional<StoredChainCheckpoint> newest_row;
  Status scanned = ScanNewestFirst(store, [&](StoredChainCheckpoint stored) {
    newest_row = std::move(stored);
    return false;
  });
  if (!scanned.ok()) return scanned;
  if (!newest_row) return Status::Ok();
  const StoredChainCheckpoint& newest = *newest_row;
  const std::string seq = std::to_string(newest.row_seq);
  const auto refuse = [](const std::string& finding) {
    return Status::Internal(finding +
                            " The log was altered since that checkpoint was signed; run `keyledger "
                            "verify-log` on this data directory. The service does not start on it: "
                            "signing a new head would hide the change.");
  };
  if (!newest.checkpoint.ok()) {
    return refuse("The newest signed checkpoint (seq " + seq + ") cannot be read: " +
                  newest.checkpoint.status().message() + ".");
  }
  const ChainCheckpoint& checkpoint = *newest.checkpoint;
  auto row = store.Get(Cf::kEvents, EncodeSeq(checkpoint.seq));
  if (!row.ok()) return row.status();
  if (!row->has_value()) {
    auto last = store.LastEvent();
    if (!last.ok()) return last.status();
    return refuse("The log ends at seq " + std::to_string(last->first) +
                  ", but the newest signed checkpoint vouches for seq " + seq + ".");
  }
  auto event = DecodeStoredValue(**row);
  if (!event.ok() || event->hash != checkpoint.hash || checkpoint.seq != newest.row_seq) {
    return refuse("Event " + seq + " is not the one the newest signed checkpoint vouches for.");
  }
  return Status::Ok();
}

}  // namespace keyledger
