#pragma once
// X-Request-Id: correlates a client's request with this server's log lines. Every response
// carries one; a sane id sent by the client (or by a proxy in front) is echoed, otherwise the
// transport makes one up.

#include <cstddef>
#include <string>
#include <string_view>

namespace keyledger::http {

inline constexpr std::string_view kRequestIdField = "X-Request-Id";
inline constexpr std::size_t kMaxRequestIdLength = 128;

// True for 1..kMaxRequestIdLength visible ASCII characters (0x21..0x7E): nothing that could split
// a log line or a header.
[[nodiscard]] bool IsAcceptableRequestId(std::string_view id);

// 16 lowercase hex characters from a per-thread generator. Not a secret and not unique across
// processes; only meant to tell requests apart in logs. Thread-safe.
[[nodiscard]] std::string GenerateRequestId();

}  // namespace keyledger::http
