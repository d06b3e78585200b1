#include "core/abilities.h"

#include <algorithm>

namespace keyledger {
namespace {

bool IsValidResource(std::string_view r) {
  if (r == "*") return true;
  if (r.empty() || r.size() > 64 || r[0] < 'a' || r[0] > 'z') return false;
  return std::all_of(r.begin() + 1, r.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

}  // namespace

std::optional<Preset> ParsePreset(std::string_view name) {
  if (name == "full_access") return Preset::kFullAccess;
  if (name == "read_only") return Preset::kReadOnly;
  return std::nullopt;
}

std::string_view PresetName(Preset preset) {
  switch (preset) {
    case Preset::kFullAccess: return "full_access";
    case Preset::kReadOnly: return "read_only";
    case Preset::kNone: break;
  }
  return "";
}

bool IsValidAbility(std::string_view ability) {
  const size_t colon = ability.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view action = ability.substr(colon + 1);
  return IsValidResource(ability.substr(0, colon)) && (action == "read" || action == "write");
}

Abilities Abilities::ForPreset(Preset preset) {
  Abilities a;
  if (preset == Preset::kFullAccess) a.list_ = {"*:read", "*:write"};
  if (preset == Preset::kReadOnly) a.list_ = {"*:read"};
  return a;
}

Result<Abilities> Abilities::Parse(const std::vector<std::string>& list) {
  if (list.empty()) return Status::Invalid("At least one ability is required.", "abilities");
  if (list.size() > 100) return Status::Invalid("At most 100 abilities are allowed.", "abilities");
  Abilities a;
  for (const std::string& ability : list) {
    if (!IsValidAbility(ability)) {
      return Status::Invalid(
          "Each ability must be resource:read or resource:write, with resource [a-z][a-z0-9_-]* or *.",
          "abilities");
    }
    if (std::find(a.list_.begin(), a.list_.end(), ability) == a.list_.end()) {
      a.list_.push_back(ability);
    }
  }
  return a;
}

bool Abilities::Allows(std::string_view required) const {
  const size_t colon = required.find(':');
  const std::string_view resource = required.substr(0, colon);
  const std::string_view action = required.substr(colon + 1);
  for (const std::string& granted : list_) {
    const size_t c = granted.find(':');
    const std::string_view g_resource = std::string_view(granted).substr(0, c);
    const std::string_view g_action = std::string_view(granted).substr(c + 1);
    if (g_action == action && (g_resource == "*" || g_resource == resource)) return true;
  }
  return false;
}

}  // namespace keyledger
