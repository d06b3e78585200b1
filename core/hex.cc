#include "core/hex.h"

#include <array>
#include <cstdint>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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
  size_t i = 0;  // bytes written
#ifdef __SSE2__
  // Sixteen digits to eight bytes per step: a replay decodes a 64-digit prev_hash per event.
  for (; 2 * i + 16 <= hex.size(); i += 8) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(hex.data() + 2 * i));
    // Signed compares: every byte >= 0x80 is negative, so neither a digit nor a letter.
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    // OR 0x20 folds 'A'-'F' onto 'a'-'f' and maps nothing else into that range.
    const __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i letter =
        _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(folded, _mm_set1_epi8('f' + 1)));
    if (_mm_movemask_epi8(_mm_or_si128(digit, letter)) != 0xFFFF) return false;
    // '0'-'9' & 0xF is the digit; 'a'/'A' & 0xF is 1, and a letter's value is that plus 9.
    const __m128i nibbles = _mm_add_epi8(_mm_and_si128(v, _mm_set1_epi8(0x0F)), _mm_and_si128(letter, _mm_set1_epi8(9)));
    // Each 16-bit lane holds a high nibble (low byte) and a low nibble (high byte).
    const __m128i bytes = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(nibbles, _mm_set1_epi16(0x00FF)), 4),
                                       _mm_srli_epi16(nibbles, 8));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(bytes, bytes));
  }
#endif
  uint8_t invalid = 0;
  for (; i < hex.size() / 2; ++i) {
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
