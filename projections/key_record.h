#pragma once
// How LedgerState keeps one key in memory: a 120-byte record plus its packed strings (about 80
// bytes for a typical key), so that a million active keys fit in well under 300 MB. Strings most
// keys share (workspace, creator, ability set) are numbers into pools; fields most keys never set
// live in an optional KeyExtra. KeyState (key_state.h) is the full, self-contained copy that
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

namespace keyledger {

// Fields that only rotated, revoked, rejected, idempotent, admin or annotated keys have.
struct KeyExtra {
  std::string role;
  Metadata metadata;
  TimeMs revoked_at = 0;
  std::string revoke_reason;
  uint64_t rejected_count = 0;
  TimeMs last_rejected_at = 0;
  std::string last_rejected_ip;
  std::string rotated_from;
  std::string rotated_to;
  std::string idempotency_key;
  Digest request_digest{};
};

// The packed strings of a record, in TextArena part order.
enum class KeyText : size_t { kId, kName, kPrefix, kOwner, kDescription };

struct KeyRecord {
  Digest digest{};
  const char* text = nullptr;  // TextArena record; parts in KeyText order
  std::unique_ptr<KeyExtra> extra;
  std::unique_ptr<std::vector<UsageBucket>> usage;  // hourly, ascending; null until first use
  TimeMs created_at = 0;
  TimeMs expires_at = 0;
  TimeMs grace_until = 0;
  TimeMs ended_at = 0;
  TimeMs last_used_at = 0;
  uint64_t usage_count = 0;
  uint32_t workspace = 0;   // number in LedgerState's string pool
  uint32_t created_by = 0;  // number in LedgerState's string pool
  uint32_t abilities = 0;   // number in LedgerState's ability-set pool
  KeyKind kind = KeyKind::kApi;
  Preset preset = Preset::kNone;
  KeyStatus status = KeyStatus::kActive;
  // 4 spare bytes here before padding.

  std::string_view Text(KeyText part) const { return TextArena::Part(text, static_cast<size_t>(part)); }
  std::string_view id() const { return Text(KeyText::kId); }
  KeyExtra& MutableExtra() {
    if (!extra) extra = std::make_unique<KeyExtra>();
    return *extra;
  }
  KeyStatus EffectiveStatus(TimeMs now) const {
    return EffectiveKeyStatus(status, expires_at, grace_until, now);
  }
  TimeMs Deadline() const { return KeyDeadline(expires_at, grace_until); }
};
static_assert(sizeof(KeyRecord) <= 120, "a KeyRecord is a million times resident: keep it small");

}  // namespace keyledger
