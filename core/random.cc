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
