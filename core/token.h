#pragma once
// Token format (API.md): <prefix>_<32 base62 random chars><6 base62 checksum chars>.
// The checksum is the CRC-32 (zlib polynomial) of everything before it, written big-endian in
// base62 (0-9A-Za-z) and left-padded with '0'. Tokens are stored only as SHA-256 digests.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/sha256.h"

namespace keyledger {

inline constexpr char kBase62Digits[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
inline constexpr size_t kTokenRandomChars = 32;
inline constexpr size_t kTokenChecksumChars = 6;
inline constexpr size_t kDisplayPrefixChars = 12;

inline constexpr std::string_view kAdminTokenPrefix = "kla";
inline constexpr std::string_view kOperatorTokenPrefix = "klo";
inline constexpr std::string_view kDefaultApiTokenPrefix = "kl";

uint32_t Crc32(std::string_view data);
// Appends the big-endian base62 of `value`, left-padded with '0' to `width` characters (any
// unsigned integer type: ids use 128-bit values).
template <class Unsigned>
void AppendBase62Fixed(std::string& out, Unsigned value, size_t width) {
  const size_t start = out.size();
  out.resize(start + width, '0');
  for (size_t i = start + width; i > start && value > 0; --i) {
    out[i - 1] = kBase62Digits[static_cast<size_t>(value % 62)];
    value /= 62;
  }
}
// The same as a string of its own.
std::string Base62Fixed(uint64_t value, size_t width);

// [a-z][a-z0-9]{1,9}
bool IsValidTokenPrefix(std::string_view prefix);

// Builds a token from a prefix and the random part by appending the checksum.
std::string ComposeToken(std::string_view prefix, std::string_view random_part);
// A fresh token with 190 bits from the CSPRNG.
std::string GenerateToken(std::string_view prefix);

// The prefix (before '_') when `token` is well formed and its checksum matches; nullopt otherwise.
// Runs in time independent of where a checksum mismatch occurs.
std::optional<std::string_view> CheckToken(std::string_view token);

// True when some stretch of `text` is a well-formed token whose checksum matches, of any prefix
// (e.g. pasted into a name, a metadata value or an X-Actor header). Such text must never be
// stored in the log or echoed in an error. A random 6-character checksum matches once in 2^32.
bool ContainsToken(std::string_view text);

// The first 12 characters: safe to show and log.
inline std::string DisplayPrefix(std::string_view token) {
  return std::string(token.substr(0, kDisplayPrefixChars));
}

inline Digest TokenDigest(std::string_view token) { return Sha256(token); }

}  // namespace keyledger
