#pragma once
// RFC 3339 UTC timestamps with milliseconds: 2026-11-23T10:00:00.000Z.

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace keyledger {

// Always 24 characters, UTC, millisecond precision.
std::string FormatRfc3339(TimeMs t);

// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; 't'/'z' and a space separator are accepted
// as RFC 3339 allows. Fractions beyond milliseconds are truncated. nullopt when malformed or out of
// range (years 1970..9999).
std::optional<TimeMs> ParseRfc3339(std::string_view text);

}  // namespace keyledger
