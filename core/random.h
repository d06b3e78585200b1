#pragma once
// Randomness for secrets and identifiers, from OpenSSL's CSPRNG (RAND_bytes) only.

#include <cstddef>
#include <string>
#include <string_view>

namespace keyledger {

// Throws std::runtime_error if the CSPRNG fails: nothing secret may be made from weak bytes.
void RandomBytes(void* out, size_t size);

// `count` characters uniformly from 0-9A-Za-z (rejection sampling, no modulo bias).
std::string RandomBase62(size_t count);

}  // namespace keyledger

namespace keyledger {
// An identifier such as "key_4fQ9..." : `prefix` then 20 base62 characters (119 random bits).
inline std::string NewId(std::string_view prefix) {
  return std::string(prefix) + RandomBase62(20);
}
}  // namespace keyledger
