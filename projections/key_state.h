#pragma once
// The current state of one key and one workspace: what `<Key>` and `<Workspace>` show.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/abilities.h"
#include "core/clock.h"
#include "core/sha256.h"
#include "events/event.h"

namespace keyledger {

enum class KeyStatus : uint8_t { kActive, kExpired, kRevoked };
std::string_view KeyStatusName(KeyStatus status);

// When a key with this expiry and grace end (0: none) ends by time, or 0.
inline TimeMs KeyDeadline(TimeMs expires_at, TimeMs grace_until) {
  if (expires_at == 0) return grace_until;
  if (grace_until == 0) return expires_at;
  return std::min(expires_at, grace_until);
}

inline KeyStatus EffectiveKeyStatus(KeyStatus recorded, TimeMs expires_at, TimeMs grace_until,
                                    TimeMs now) {
  if (recorded != KeyStatus::kActive) return recorded;
  const TimeMs deadline = KeyDeadline(expires_at, grace_until);
  return deadline != 0 && now >= deadline ? KeyStatus::kExpired : KeyStatus::kActive;
}

// A key's number in a LedgerState: its position in creation (log) order.
using KeyIndex = uint32_t;

struct UsageBucket {
  TimeMs hour_start = 0;
  uint64_t count = 0;     // every decision on the key
  uint64_t rejected = 0;  // decisions other than valid
};

struct KeyState {
  std::string id;
  KeyKind kind = KeyKind::kApi;
  std::string workspace;
  std::string name;
  std::string prefix;
  Digest digest{};
  std::string owner;
  std::string description;
  std::string role;
  Preset preset = Preset::kNone;
  Abilities abilities;
  Metadata metadata;
  KeyStatus status = KeyStatus::kActive;
  TimeMs created_at = 0;
  std::string created_by;
  TimeMs expires_at = 0;   // 0: never
  TimeMs grace_until = 0;  // set when rotated: the old key ends then
  TimeMs revoked_at = 0;
  TimeMs ended_at = 0;     // when it became expired or revoked
  std::string revoke_reason;
  TimeMs last_used_at = 0;
  uint64_t usage_count = 0;    // valid uses
  uint64_t rejected_count = 0; // decisions other than valid
  TimeMs last_rejected_at = 0;
  std::string last_rejected_ip;
  std::string rotated_from;
  std::string rotated_to;
  std::string idempotency_key;  // as given at creation, with the request's digest
  Digest request_digest{};
  std::vector<UsageBucket> usage;  // hourly, ascending

  // The status a verify at `now` sees: an active key past its expiry or grace end is expired
  // even before the sweeper records it.
  KeyStatus EffectiveStatus(TimeMs now) const {
    return EffectiveKeyStatus(status, expires_at, grace_until, now);
  }
  // When an active key ends by time, or 0.
  TimeMs Deadline() const { return KeyDeadline(expires_at, grace_until); }
};

struct WorkspaceState {
  std::string id;
  std::string name;
  Plan plan = Plan::kFree;
  int64_t max_expiry_days = 365;
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
  std::vector<KeyIndex> keys;  // every key of the workspace, in creation order
};

}  // namespace keyledger
