#pragma once
// Input rules shared by the commands: each returns Ok or InvalidArgument naming the field.

#include <optional>
#include <string_view>

#include "core/status.h"
#include "events/event.h"

namespace keyledger {

inline constexpr size_t kMaxNameChars = 100;
inline constexpr size_t kMaxOwnerChars = 200;
inline constexpr size_t kMaxDescriptionChars = 1000;
inline constexpr size_t kMaxReasonChars = 500;
inline constexpr size_t kMaxMetadataEntries = 50;
inline constexpr size_t kMaxMetadataKeyChars = 64;
inline constexpr size_t kMaxMetadataValueChars = 500;
inline constexpr int64_t kMaxGraceSeconds = 604800;
inline constexpr int64_t kDefaultExpiryDays = 90;
inline constexpr int64_t kDefaultMaxExpiryDays = 365;
inline constexpr int64_t kMaxMaxExpiryDays = 3650;

// Characters, counting a UTF-8 sequence as one.
size_t CharCount(std::string_view s);

bool IsValidWorkspaceId(std::string_view id);  // [a-z0-9][a-z0-9-]{1,62}
Status CheckText(std::string_view value, std::string_view field, size_t min_chars, size_t max_chars);
Status CheckMetadata(const Metadata& metadata);
Status CheckIdempotencyKey(std::string_view key);  // 1..255 printable ASCII
Status CheckMaxExpiryDays(std::optional<int64_t> days);  // absent, or 1..3650

}  // namespace keyledger
