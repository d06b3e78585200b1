#pragma once
// The projection of the log that keyledger serves from memory: workspaces, the key table (every
// key with its usage), the digest index that verification reads, idempotency records, and the
// deadlines the expiry sweeper watches.
//
// A pure state machine: Apply(event) in log order, nothing else changes it. The same class serves
// the live service (projections/ledger.h guards it with a lock) and point-in-time replay (a
// private instance fed events up to an instant). Serialize() is canonical, so two states built
// from the same events serialize — and fingerprint — identically.
//
// Keys are kept as compact records (key_record.h) numbered in creation order; the id and digest
// indexes hold only those numbers.
//
// Not thread-safe.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "events/event.h"
#include "projections/compact_storage.h"
#include "projections/deadline_queue.h"
#include "projections/key_record.h"
#include "projections/key_state.h"
#include "projections/stable_vector.h"

namespace keyledger {

class ArrivingBytes;  // projections/byte_codec.h
class LoadIndexer;   // projections/load_indexer.h
class ByteReader;

inline constexpr TimeMs kIdempotencyWindowMs = 24 * kHourMs;

// A million key records are copied in chunks of 1024 (~100 KiB) when a snapshot shares them.
inline constexpr size_t kKeyChunkBits = 10;
using KeyRecords = StableVector<KeyRecord, kKeyChunkBits>;

// A LedgerState as it was at one event, for serializing on another thread (a checkpoint) while
// the live state goes on applying events. Freezing costs the pools and workspaces (a few ms at a
// million keys); the key records and their strings are shared, and the live state copies a chunk
// of records only when it first changes one of them afterwards (stable_vector.h). Read-only;
// independent of the LedgerState's lifetime.
class FrozenLedgerState {
 public:
  uint64_t applied_seq() const { return applied_seq_; }
  TimeMs applied_ts() const { return applied_ts_; }
  // What LedgerState::Serialize() returned when this was frozen.
  std::string Serialize() const;
  // The same bytes, handed to `emit` in pieces of `piece_bytes` (the last one shorter) as they are
  // made, so that they are never all in memory at once; and each chunk of key records is let go
  // of once written, so that from then on the live state changes those records in place instead
  // of copying them. Stops when `emit` returns false, and returns whether it finished. Leaves
  // this frozen state unusable.
  bool SerializeInPieces(size_t piece_bytes, const std::function<bool(std::string_view)>& emit) &&;

 private:
  friend class LedgerState;
  std::string head_;  // the serialization up to the keys
  KeyRecords::Snapshot keys_;
  TextArena::Snapshot text_;
  uint64_t applied_seq_ = 0;
  TimeMs applied_ts_ = 0;
};

class LedgerState {
 public:
  LedgerState();
  ~LedgerState();
  LedgerState(LedgerState&&) noexcept;
  LedgerState& operator=(LedgerState&&) noexcept;

  // REQUIRES: event.seq == applied_seq() + 1.
  void Apply(const Event& event);
  // Apply() of each event in order, overlapping the memory latency of the next events' key
  // lookups (replay's hot loop: at a million keys each lookup is several cache misses).
  void ApplyBatch(const Event* events, size_t count);

  // Full copies of a key, built from its compact record.
  // kOmit leaves KeyState::usage empty: decoding a key's hourly history costs more than the rest
  // of the copy, and most callers (every verify among them) do not show it.
  enum class Usage { kInclude, kOmit };
  std::optional<KeyState> FindKey(std::string_view id, Usage usage = Usage::kInclude) const;
  std::optional<KeyState> FindByDigest(const Digest& digest) const;
  KeyState Key(KeyIndex index, Usage usage = Usage::kInclude) const;  // REQUIRES: index < key_count()
  std::optional<KeyIndex> IndexOfKey(std::string_view id) const;
  std::optional<KeyIndex> IndexOfDigest(const Digest& digest) const;

  // The compact record itself, for the verify path: no copies, no allocation.
  const KeyRecord& Record(KeyIndex index) const { return keys_[index]; }
  const std::string& WorkspaceOf(const KeyRecord& key) const { return strings_[key.workspace]; }
  std::string_view TextOf(const KeyRecord& key, KeyText part) const {
    return TextArena::Part(text_.Resolve(key.text), static_cast<size_t>(part));
  }
  std::string_view IdOf(const KeyRecord& key) const { return TextOf(key, KeyText::kId); }
  const Abilities& AbilitiesOf(const KeyRecord& key) const { return ability_sets_[key.abilities]; }

  const WorkspaceState* FindWorkspace(std::string_view id) const;
  // The key created with this idempotency key in `workspace`, if within the window at `now`.
  std::optional<KeyState> FindIdempotent(std::string_view workspace,
                                         std::string_view idempotency_key, TimeMs now) const;
  // Active keys whose deadline (expiry or grace end) is at or before `now`, earliest first.
  std::vector<std::string> DueForExpiry(TimeMs now, size_t max) const;
  // The earliest deadline of an active key, or 0.
  TimeMs NextDeadline() const { return deadlines_.Earliest(); }

  uint64_t applied_seq() const { return applied_seq_; }
  TimeMs applied_ts() const { return applied_ts_; }
  size_t key_count() const { return keys_.size(); }
  template <typename Fn>
  void ForEachWorkspace(Fn&& fn) const {
    for (const auto& [id, ws] : workspaces_) fn(ws);
  }

  // Canonical binary serialization of everything Apply built (format: state_codec.cc);
  // checkpoints store it. Two states built from the same events serialize identically.
  std::string Serialize() const;
  static Result<LedgerState> Deserialize(std::string_view bytes);
  // The same, decoding the bytes as they arrive (at most bytes.capacity() of them).
  static Result<LedgerState> Deserialize(ArrivingBytes& bytes);
  FrozenLedgerState Freeze() const;
  Digest Fingerprint() const;

 private:
  static Result<LedgerState> Deserialize(ByteReader& r, size_t size);
  // Apply() with IdHash(event.key_id) already computed: ApplyBatch hashes every id ahead for its
  // prefetches and hands the hash on rather than hash it twice.
  void ApplyHashed(const Event& event, uint64_t id_hash);
  std::optional<KeyIndex> IndexOfKey(std::string_view id, uint64_t id_hash) const;
  void ApplyKeyCreated(const Event& e, const KeyCreated& d, uint64_t id_hash);
  void ApplyKeyUsed(KeyRecord& key, const Event& e, const KeyUsed& d);
  void EndKey(KeyIndex index, KeyStatus status, TimeMs at);
  // Adds `record`, whose id hashes to `id_hash`, to the indexes (digest, workspace, idempotency,
  // deadlines).
  KeyIndex Insert(KeyRecord record, uint64_t id_hash);
  void IndexIdempotency(KeyIndex index);
  // Deserialize: appends a record whose workspace already lists it, without looking for
  // duplicates; `indexer` indexes it on its own thread.
  void AddLoaded(KeyRecord record, LoadIndexer& indexer);
  void RebuildDeadlines();
  bool IsCurrentDeadline(const DeadlineQueue::Entry& e) const;
  void TidyDeadlines();
  uint32_t InternAbilities(const Abilities& abilities);

  KeyRecords keys_;  // by KeyIndex; records never move
  TextArena text_;
  StringPool strings_;  // workspace ids and creators
  std::vector<Abilities> ability_sets_;
  std::unordered_map<std::string, uint32_t> ability_set_numbers_;  // joined list → number
  RecordIndex by_id_;
  RecordIndex by_digest_;
  std::unordered_map<std::string, WorkspaceState> workspaces_;
  std::map<std::pair<std::string, std::string>, KeyIndex, std::less<>> idempotency_;
  DeadlineQueue deadlines_;  // active keys only
  std::vector<uint64_t> batch_hashes_;  // ApplyBatch's scratch
  std::vector<uint32_t> batch_records_;
  size_t active_keys_ = 0;
  uint64_t applied_seq_ = 0;
  TimeMs applied_ts_ = 0;
};

}  // namespace keyledger
