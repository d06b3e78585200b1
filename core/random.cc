#include "core/random.h"

#include <openssl/rand.h>

#include <stdexcept>

#include "core/token.h"

namespace keyledger {

void RandomBytes(void* out, size_t size) {
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(size)) != 1) {
    throw std::runtime_error("CSPRNG failure (RAND_bytes)");
  }
}

std::string NewTimeOrderedId(std::string_view prefix, int64_t now) {
  uint64_t t = now > 0 ? static_cast<uint64_t>(now) : 0;
  char time_digits[8];
  for (int i = 7; i >= 0; --i) {
    time_digits[i] = kBase62Digits[t % 62];
    t /= 62;
  }
  std::string id(prefix);
  id.append(time_digits, sizeof time_digits).append(RandomBase62(12));
  return id;
}

std::string RandomBase62(size_t count) {
  std::string out;
  out.reserve(count);
  unsigned char buf[64];
  while (out.size() < count) {
    RandomBytes(buf, sizeof buf);
    for (unsigned char b : buf) {
      // 248 = 4 * 62: values at or above it would bias the low digits.
      if (b < 248) out.push_back(kBase62Digits[b % 62]);
      if (out.size() == count) break;
    }
  }
  return out;
}

}  // namespace keyledger
