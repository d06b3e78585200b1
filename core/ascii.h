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

#ifdef __SSE2__
// One bit per byte of `v`: set where the byte is not plain.
inline int UnplainMask(__m128i v) {
  const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  // Signed bytes: below 0x20 covers the controls and every byte with the high bit set.
  const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, space), _mm_cmpeq_epi8(v, del)),
                                       _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
  return _mm_movemask_epi8(special);
}
#endif

// Sixteen bytes per step where SSE2 is available (every x86-64). The tail of a long string is one
// more 16-byte load that overlaps bytes already checked, and strings of 4 to 15 bytes (most keys,
// ids and enum names) are two overlapping loads, so only strings under 4 bytes go byte by byte.
// Byte-at-a-time scans were the largest user-space cost of JSON encoding and of the replay's
// decoding.
inline size_t PlainAsciiPrefix(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
#ifdef __SSE2__
  if (n >= 16) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const int mask = UnplainMask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)));
      if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
    }
    if (i == n) return n;
    // The last 16 bytes: the first 16 - (n - i) of them were checked above.
    const int mask = UnplainMask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16))) >> (16 - (n - i));
    return mask != 0 ? i + static_cast<size_t>(__builtin_ctz(mask)) : n;
  }
  if (n >= 4) {
    // Bytes [0, w) in the low lanes and [n - w, n) in the next ones, overlapping when n < 2w; the
    // lanes left over hold a plain byte ('A').
    const size_t w = n >= 8 ? 8 : 4;
    __m128i v;
    if (w == 8) {
      long long head, tail;
      __builtin_memcpy(&head, p, 8);
      __builtin_memcpy(&tail, p + n - 8, 8);
      v = _mm_set_epi64x(tail, head);
    } else {
      int head, tail;
      __builtin_memcpy(&head, p, 4);
      __builtin_memcpy(&tail, p + n - 4, 4);
      v = _mm_setr_epi32(head, tail, 0x41414141, 0x41414141);
    }
    const int mask = UnplainMask(v);
    const int head_mask = mask & ((1 << w) - 1);
    if (head_mask != 0) return static_cast<size_t>(__builtin_ctz(head_mask));
    // The tail's overlap with the head is plain, so its first unplain byte lies at w or beyond.
    const int tail_mask = (mask >> w) & ((1 << w) - 1);
    return tail_mask != 0 ? n - w + static_cast<size_t>(__builtin_ctz(tail_mask)) : n;
  }
#endif
  size_t i = 0;
  while (i < n && IsPlainAscii(static_cast<unsigned char>(p[i]))) ++i;
  return i;
}

}  // namespace keyledger
