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
// Not thread-safe.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "events/event.h"
#include "projections/key_state.h"

namespace keyledger {

inline constexpr TimeMs kIdempotencyWindowMs = 24 * kHourMs;

class LedgerState {
 public:
  // REQUIRES: event.seq == applied_seq() + 1.
  void Apply(const Event& event);

  const KeyState* FindKey(std::string_view id) const;
  const KeyState* FindByDigest(const Digest& digest) const;
  const WorkspaceState* FindWorkspace(std::string_view id) const;
  // The key created with this idempotency key in `workspace`, if within the window at `now`.
  const KeyState* FindIdempotent(std::string_view workspace, std::string_view idempotency_key,
                                 TimeMs now) const;
  // Active keys whose deadline (expiry or grace end) is at or before `now`, earliest first.
  std::vector<std::string> DueForExpiry(TimeMs now, size_t max) const;
  // The earliest deadline of an active key, or 0.
  TimeMs NextDeadline() const;

  uint64_t applied_seq() const { return applied_seq_; }
  TimeMs applied_ts() const { return applied_ts_; }
  size_t key_count() const { return keys_.size(); }
  template <typename Fn>
  void ForEachWorkspace(Fn&& fn) const {
    for (const auto& [id, ws] : workspaces_) fn(ws);
  }

  // Canonical serialization (sorted by id) of everything Apply built; checkpoints store it.
  std::string Serialize() const;
  static Result<LedgerState> Deserialize(std::string_view bytes);
  Digest Fingerprint() const;

 private:
  void ApplyKeyCreated(const Event& e, const KeyCreated& d);
  void ApplyKeyUsed(KeyState& key, const Event& e, const KeyUsed& d);
  void EndKey(KeyState& key, KeyStatus status, TimeMs at);
  void Index(KeyState& key);

  std::unordered_map<std::string, KeyState> keys_;
  std::unordered_map<Digest, std::string, DigestHash> by_digest_;
  std::unordered_map<std::string, WorkspaceState> workspaces_;
  std::map<std::pair<std::string, std::string>, std::string, std::less<>> idempotency_;
  std::set<std::pair<TimeMs, std::string>> deadlines_;  // active keys only
  uint64_t applied_seq_ = 0;
  TimeMs applied_ts_ = 0;
};

}  // namespace keyledger
