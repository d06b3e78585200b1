#pragma once
// RFC 3339 UTC timestamps with milliseconds: 2026-11-23T10:00:00.000Z.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace keyledger {

// Always 24 characters, UTC, millisecond precision.
std::string FormatRfc3339(TimeMs t);
// The same characters into `out`, without allocating; returns how many (24 for years 0..9999).
inline constexpr size_t kRfc3339MaxChars = 64;
size_t FormatRfc3339Into(TimeMs t, char (&out)[kRfc3339MaxChars]);

// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; 't'/'z' and a space separator are accepted
// as RFC 3339 allows. Fractions beyond milliseconds are truncated. nullopt when malformed or out of
// range (years 1970..9999).
std::optional<TimeMs> ParseRfc3339(std::string_view text);
// The same, but a fraction beyond milliseconds rounds up: for an inclusive lower bound ("from"),
// so that 10:00:00.0509Z does not take in an event at 10:00:00.050Z, 0.9 ms before it.
std::optional<TimeMs> ParseRfc3339LowerBound(std::string_view text);

// ParseRfc3339 for a stream of timestamps that mostly share their minute, as a log's do: the
// 24-character form FormatRfc3339 writes reuses the last minute parsed; anything else is parsed in
// full. Always the same answer as ParseRfc3339. Not thread-safe: one per thread.
class Rfc3339StreamParser {
 public:
  std::optional<TimeMs> Parse(std::string_view text);

 private:
  char minute_[16] = {};  // "YYYY-MM-DDTHH:MM" of minute_start_, or zeros
  TimeMs minute_start_ = 0;
};

}  // namespace keyledger
