#pragma once
// Abilities are `resource:action` with action `read` or `write` and resource
// `[a-z][a-z0-9_-]{0,63}` or `*`. `*:read` allows `invoices:read`; `write` does not imply `read`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace keyledger {

enum class Preset : uint8_t { kNone, kFullAccess, kReadOnly };

std::optional<Preset> ParsePreset(std::string_view name);  // "full_access" | "read_only"
std::string_view PresetName(Preset preset);                // "" for kNone

bool IsValidAbility(std::string_view ability);

// A key's granted abilities, in the order given, without duplicates.
class Abilities {
 public:
  Abilities() = default;
  static Abilities ForPreset(Preset preset);
  // Invalid, empty or over-long (> 100 entries) lists are an InvalidArgument naming `abilities`.
  static Result<Abilities> Parse(const std::vector<std::string>& list);

  // REQUIRES: IsValidAbility(required)
  bool Allows(std::string_view required) const;
  const std::vector<std::string>& list() const { return list_; }

 private:
  std::vector<std::string> list_;
};

}  // namespace keyledger
