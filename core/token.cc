#include "core/token.h"

#include <openssl/crypto.h>

#include <array>

#include "core/random.h"

namespace keyledger {
namespace {

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = MakeCrcTable();

bool IsBase62(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

}  // namespace

uint32_t Crc32(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string Base62Fixed(uint64_t value, size_t width) {
  std::string out;
  AppendBase62Fixed(out, value, width);
  return out;
}

bool IsValidTokenPrefix(std::string_view prefix) {
  if (prefix.size() < 2 || prefix.size() > 10) return false;
  if (prefix[0] < 'a' || prefix[0] > 'z') return false;
  for (char c : prefix.substr(1)) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

std::string ComposeToken(std::string_view prefix, std::string_view random_part) {
  std::string token;
  token.reserve(prefix.size() + 1 + random_part.size() + kTokenChecksumChars);
  token.append(prefix).push_back('_');
  token.append(random_part);
  token.append(Base62Fixed(Crc32(token), kTokenChecksumChars));
  return token;
}

std::string GenerateToken(std::string_view prefix) {
  return ComposeToken(prefix, RandomBase62(kTokenRandomChars));
}

std::optional<std::string_view> CheckToken(std::string_view token) {
  const size_t underscore = token.find('_');
  if (underscore == std::string_view::npos) return std::nullopt;
  const std::string_view prefix = token.substr(0, underscore);
  const std::string_view rest = token.substr(underscore + 1);
  if (!IsValidTokenPrefix(prefix) || rest.size() != kTokenRandomChars + kTokenChecksumChars) {
    return std::nullopt;
  }
  for (char c : rest) {
    if (!IsBase62(c)) return std::nullopt;
  }
  const std::string_view body = token.substr(0, token.size() - kTokenChecksumChars);
  const std::string expected = Base62Fixed(Crc32(body), kTokenChecksumChars);
  if (CRYPTO_memcmp(expected.data(), token.data() + body.size(), kTokenChecksumChars) != 0) {
    return std::nullopt;
  }
  return prefix;
}

bool ContainsToken(std::string_view text) {
  constexpr size_t kSecretChars = kTokenRandomChars + kTokenChecksumChars;
  constexpr size_t kMaxPrefixChars = 10;
  const auto prefix_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (size_t underscore = text.find('_'); underscore != std::string_view::npos;
       underscore = text.find('_', underscore + 1)) {
    if (text.size() - underscore - 1 < kSecretChars) return false;  // nor after a later one
    if (underscore < 2) continue;
    const std::string_view secret = text.substr(underscore + 1, kSecretChars);
    bool base62 = true;
    for (char c : secret) base62 = base62 && IsBase62(c);
    if (!base62) continue;
    // The prefix is 2 to 10 characters ending at the underscore; try each start it could have.
    for (size_t start = underscore; start > 0 && underscore - (start - 1) <= kMaxPrefixChars &&
                                    prefix_char(text[start - 1]);) {
      --start;
      if (underscore - start >= 2 && CheckToken(text.substr(start, underscore - start + 1 + kSecretChars))) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace keyledger
