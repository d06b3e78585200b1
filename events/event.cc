#include "events/event.h"

#include <array>

namespace keyledger {
namespace {

template <typename Enum, size_t N>
std::optional<Enum> Lookup(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 3> kKindNames = {"api", "admin", "operator"};
constexpr std::array<std::string_view, 2> kPlanNames = {"free", "pro"};
constexpr std::array<std::string_view, 7> kOutcomeNames = {
    "valid", "forbidden", "expired", "revoked", "upgrade_required", "usage_exceeded",
    "rate_limited"};
constexpr std::array<std::string_view, kEventTypeCount> kTypeNames = {
    "workspace.created", "workspace.updated", "key.created", "key.rotated",
    "key.revoked",       "key.expired",       "key.used"};

static_assert(std::variant_size_v<EventData> == kEventTypeCount);

}  // namespace

std::string_view KeyKindName(KeyKind kind) { return kKindNames[static_cast<size_t>(kind)]; }
std::optional<KeyKind> ParseKeyKind(std::string_view n) { return Lookup<KeyKind>(kKindNames, n); }
std::string_view PlanName(Plan plan) { return kPlanNames[static_cast<size_t>(plan)]; }
std::optional<Plan> ParsePlan(std::string_view n) { return Lookup<Plan>(kPlanNames, n); }
std::string_view UseOutcomeName(UseOutcome o) { return kOutcomeNames[static_cast<size_t>(o)]; }
std::optional<UseOutcome> ParseUseOutcome(std::string_view n) {
  return Lookup<UseOutcome>(kOutcomeNames, n);
}
std::string_view EventTypeName(EventType t) { return kTypeNames[static_cast<size_t>(t)]; }
std::optional<EventType> ParseEventType(std::string_view n) {
  return Lookup<EventType>(kTypeNames, n);
}

}  // namespace keyledger
