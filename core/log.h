#pragma once
// Process-wide line logger to standard error. Thread-safe: each call writes one whole line.
// Never pass a token, or anything derived from a request body, into a log line; log digests'
// display prefixes and ids instead.

#include <string_view>

namespace keyledger::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
[[nodiscard]] bool Enabled(Level level);
void Write(Level level, std::string_view message);

inline void Debug(std::string_view m) { if (Enabled(Level::kDebug)) Write(Level::kDebug, m); }
inline void Info(std::string_view m) { if (Enabled(Level::kInfo)) Write(Level::kInfo, m); }
inline void Warn(std::string_view m) { if (Enabled(Level::kWarn)) Write(Level::kWarn, m); }
inline void Error(std::string_view m) { Write(Level::kError, m); }  // always written

}  // namespace keyledger::log
