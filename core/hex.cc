#include "core/hex.h"

#include <array>
#include <cstdint>

namespace keyledger {
namespace {

// Each byte's hex digit value, or 0xFF.
constexpr auto kHexValues = [] {
  std::array<uint8_t, 256> table{};
  table.fill(0xFF);
  for (int c = '0'; c <= '9'; ++c) table[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) table[c] = static_cast<uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) table[c] = static_cast<uint8_t>(c - 'A' + 10);
  return table;
}();

}  // namespace

void BytesToHexInto(std::string_view bytes, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    *out++ = kHex[c >> 4];
    *out++ = kHex[c & 0xF];
  }
}

std::string BytesToHex(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  BytesToHexInto(bytes, out.data());
  return out;
}

bool HexToBytesInto(std::string_view hex, unsigned char* out) {
  if (hex.size() % 2 != 0) return false;
  uint8_t invalid = 0;
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    const uint8_t hi = kHexValues[static_cast<unsigned char>(hex[2 * i])];
    const uint8_t lo = kHexValues[static_cast<unsigned char>(hex[2 * i + 1])];
    invalid |= hi | lo;
    out[i] = static_cast<unsigned char>(hi << 4 | (lo & 0xF));
  }
  return (invalid & 0xF0) == 0;
}

std::optional<std::string> HexToBytes(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  if (!HexToBytesInto(hex, reinterpret_cast<unsigned char*>(out.data()))) return std::nullopt;
  return out;
}

}  // namespace keyledger
