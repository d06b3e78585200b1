#pragma once
// Randomness for secrets and identifiers, from OpenSSL's CSPRNG (RAND_bytes) only.

#include <cstddef>
#include <cstdint>
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

// The same shape, ordered by time: `prefix`, then `now` (ms since the epoch, 0 or more) as 8
// base62 digits, which sort as the times do (for the next 6,000 years), then 12 random base62
// characters (71 bits: a collision within one millisecond is as likely as guessing them).
// Rows keyed by such ids (the by_key audit index) go in near one another instead of anywhere in
// the key space: each insert into RocksDB's memtable then walks cached nodes (measured: a key
// creation's memtable inserts went from ~11% to ~3% of its CPU).
std::string NewTimeOrderedId(std::string_view prefix, int64_t now);
}  // namespace keyledger
