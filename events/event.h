#pragma once
// The facts keyledger records. Every change of state is one of these, appended to the hash-chained
// log (events/store.h); everything else is a projection of them. No event ever holds a token: a
// created key is recorded by its SHA-256 digest and display prefix.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/abilities.h"
#include "core/clock.h"
#include "core/sha256.h"

namespace keyledger {

enum class KeyKind : uint8_t { kApi, kAdmin, kOperator };
std::string_view KeyKindName(KeyKind kind);
std::optional<KeyKind> ParseKeyKind(std::string_view name);

enum class Plan : uint8_t { kFree, kPro };
std::string_view PlanName(Plan plan);
std::optional<Plan> ParsePlan(std::string_view name);
inline bool PlanHasApiAccess(Plan plan) { return plan != Plan::kFree; }

// The outcome of one verify decision on a known key (API.md `data.outcome`).
enum class UseOutcome : uint8_t {
  kValid, kForbidden, kExpired, kRevoked, kUpgradeRequired, kUsageExceeded, kRateLimited
};
std::string_view UseOutcomeName(UseOutcome outcome);
std::optional<UseOutcome> ParseUseOutcome(std::string_view name);

using Metadata = std::vector<std::pair<std::string, std::string>>;  // insertion order kept

struct WorkspaceCreated {
  std::string name;
  Plan plan = Plan::kFree;
  int64_t max_expiry_days = 365;
};
struct WorkspaceUpdated {
  Plan plan = Plan::kFree;      // the plan after the update
  int64_t max_expiry_days = 0;  // the new maximum key lifetime; 0 when unchanged
};
struct KeyCreated {
  KeyKind kind = KeyKind::kApi;
  std::string name;
  std::string prefix;  // display prefix: the token's first 12 characters
  Digest digest{};     // SHA-256 of the token
  std::string owner;
  std::string description;
  std::string role;  // admin keys: "admin" | "auditor"
  Preset preset = Preset::kNone;
  std::vector<std::string> abilities;
  Metadata metadata;
  TimeMs expires_at = 0;  // 0: never
  std::string rotated_from;
  // Set when the creating request carried an Idempotency-Key: a retry within 24 h with the same
  // key and an identical body (same request_digest) returns this key instead of making another.
  std::string idempotency_key;
  Digest request_digest{};
};
struct KeyRotated {
  std::string new_key_id;
  TimeMs grace_until = 0;
};
struct KeyRevoked {
  std::string reason;
};
struct KeyExpired {
  std::string reason;  // "expired" | "rotated"
};
struct KeyUsed {
  UseOutcome outcome = UseOutcome::kValid;
  std::string ability;
  std::string source_ip;
};

// The variant's index is the event type; keep the order in step with EventType.
using EventData = std::variant<WorkspaceCreated, WorkspaceUpdated, KeyCreated, KeyRotated,
                               KeyRevoked, KeyExpired, KeyUsed>;

enum class EventType : uint8_t {
  kWorkspaceCreated, kWorkspaceUpdated, kKeyCreated, kKeyRotated, kKeyRevoked, kKeyExpired, kKeyUsed
};
inline constexpr size_t kEventTypeCount = 7;
std::string_view EventTypeName(EventType type);  // "key.created", ...
std::optional<EventType> ParseEventType(std::string_view name);

// An event before it is sequenced: what a producer hands the appender.
struct PendingEvent {
  std::string workspace;  // empty for operator-level facts
  std::string key_id;     // empty for workspace events
  std::string actor;      // who acted: X-Actor or the credential's key id; empty for uses
  EventData data;
};

// An event in the log.
struct Event {
  uint64_t seq = 0;  // 1, 2, 3, ... without gaps
  TimeMs ts = 0;     // never decreases in log order
  std::string workspace;
  std::string key_id;
  std::string actor;
  EventData data;
  Digest prev_hash{};  // hash of event seq-1; all zero for seq 1
  Digest hash{};       // SHA-256(prev_hash ‖ canonical body)

  EventType type() const { return static_cast<EventType>(data.index()); }
};

}  // namespace keyledger
