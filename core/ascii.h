#pragma once
// The scan behind both JSON directions: how many bytes at the start of a string JSON carries as
// they are (printable ASCII other than '"' and '\\'). JsonWriter copies such runs at once; the
// key.used fast decoder (events/codec_fast_path.h) accepts only strings made of one.

#include <cstddef>
#include <string_view>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace keyledger {

inline bool IsPlainAscii(unsigned char c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'; }

// Sixteen bytes per step where SSE2 is available (every x86-64), one at a time elsewhere and in
// the tail. Byte-at-a-time scans were the largest user-space cost of JSON encoding and of the
// replay's decoding.
inline size_t PlainAsciiPrefix(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  size_t i = 0;
#ifdef __SSE2__
  const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    // Signed bytes: below 0x20 covers the controls and every byte with the high bit set.
    const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                                         _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (const int mask = _mm_movemask_epi8(special); mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#endif
  while (i < n && IsPlainAscii(static_cast<unsigned char>(p[i]))) ++i;
  return i;
}

}  // namespace keyledger
