#pragma once
// One key's hourly use counts in a single small heap block: every bucket as varints (hours since
// the previous bucket, count with a flag bit, rejected only when flagged), the last one rewritten
// in place as uses arrive. A
// key used in eight different hours costs ~40 bytes instead of ~250 for a vector of UsageBucket.
//
// Not thread-safe.

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "projections/key_state.h"

namespace keyledger {

class UsageHistory {
 public:
  UsageHistory() = default;
  UsageHistory(UsageHistory&&) noexcept = default;
  UsageHistory& operator=(UsageHistory&&) noexcept = default;

  // Counts one decision at `ts` (ms), valid or not. REQUIRES: ts not before the last counted.
  void Count(TimeMs ts, bool valid);
  std::vector<UsageBucket> Buckets() const;  // ascending
  bool empty() const { return !block_; }

  // The encoded buckets, for checkpoints; FromBytes is its inverse (false when malformed).
  std::string_view bytes() const;
  static bool FromBytes(std::string_view bytes, UsageHistory& out);

 private:
  // 12 bytes of header: with a typical week of buckets (~26 bytes) the block stays within glibc's
  // 48-byte chunk. The capacity is what malloc_usable_size says.
  struct Block {
    uint32_t size;        // bytes used
    uint32_t last;        // offset of the last bucket
    uint32_t last_hour;   // hours since the epoch of the last bucket
    unsigned char data[];
  };
  size_t capacity() const;
  struct Free {
    void operator()(Block* b) const { std::free(b); }
  };
  void Reserve(size_t bytes);

  std::unique_ptr<Block, Free> block_;
};

}  // namespace keyledger
