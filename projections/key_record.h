#pragma once
// How LedgerState keeps one key in memory: a 104-byte record, its packed strings (~60 bytes for a
// typical key) and its hourly usage (~40 bytes), so that a million active keys fit in under
// 300 MB. Strings many keys share (workspace, creator, owner, ability set) are numbers into pools;
// fields most keys never set live in an optional KeyExtra. KeyState (key_state.h) is the full, self-contained copy that
// LedgerState::Key() builds from a record for callers.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "events/event.h"
#include "projections/compact_storage.h"
#include "projections/key_state.h"
#include "projections/usage_history.h"

namespace keyledger {

// The packed strings of a KeyExtra, in TextArena part order.
enum class ExtraText : size_t {
  kRole, kRotatedFrom, kRotatedTo, kIdempotencyKey, kRequestDigest, kRevokeReason, kMetadata, kCount
};

// Fields that only admin, rotated, ended, rejected, idempotent or annotated keys have (56 bytes).
struct KeyExtra {
  const char* text = nullptr;  // TextArena record, parts in ExtraText order; null: all empty
  TimeMs grace_until = 0;      // set when rotated: the old key ends then
  TimeMs ended_at = 0;         // when it became expired or revoked
  TimeMs revoked_at = 0;
  uint64_t rejected_count = 0;  // decisions other than valid
  TimeMs last_rejected_at = 0;
  uint32_t last_rejected_ip = 0;  // number in LedgerState's string pool

  std::string_view Text(ExtraText part) const {
    return text ? TextArena::Part(text, static_cast<size_t>(part)) : std::string_view();
  }
  // Repacks the strings with `part` changed (the old record stays in the arena: a key's strings
  // change at most twice, at rotation and at revocation).
  void SetText(TextArena& arena, ExtraText part, std::string_view value);
};

// Metadata as one packed string (varint-length key, value, key, value...).
std::string EncodeMetadata(const Metadata& metadata);
Metadata DecodeMetadata(std::string_view packed);

// The packed strings of a record, in TextArena part order. The owner is pooled: owners repeat.
enum class KeyText : size_t { kId, kName, kPrefix, kDescription };

struct KeyRecord {
  Digest digest{};
  std::unique_ptr<KeyExtra> extra;
  UsageHistory usage;
  TimeMs created_at = 0;
  TimeMs expires_at = 0;
  TimeMs last_used_at = 0;
  uint64_t usage_count = 0;  // valid uses
  TextArena::Ref text = 0;   // LedgerState's TextArena record; parts in KeyText order
  uint32_t workspace = 0;    // numbers in LedgerState's string pool...
  uint32_t created_by = 0;
  uint32_t owner = 0;
  uint32_t abilities = 0;    // ...and in its ability-set pool
  KeyKind kind = KeyKind::kApi;
  Preset preset = Preset::kNone;
  KeyStatus status = KeyStatus::kActive;

  // A deep copy: its own extra and usage history (the strings are shared: the arena's records
  // never change).
  KeyRecord Clone() const;

  TimeMs grace_until() const { return extra ? extra->grace_until : 0; }
  TimeMs ended_at() const { return extra ? extra->ended_at : 0; }
  KeyExtra& MutableExtra() {
    if (!extra) extra = std::make_unique<KeyExtra>();
    return *extra;
  }
  KeyStatus EffectiveStatus(TimeMs now) const {
    return EffectiveKeyStatus(status, expires_at, grace_until(), now);
  }
  TimeMs Deadline() const { return KeyDeadline(expires_at, grace_until()); }
  // Its place in the expiry sweeper's deadline heap: Deadline() while active, else 0 (none).
  TimeMs LiveDeadline() const { return status == KeyStatus::kActive ? Deadline() : 0; }
};
static_assert(sizeof(KeyRecord) <= 104, "a KeyRecord is a million times resident: keep it small");

}  // namespace keyledger
