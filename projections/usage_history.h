#pragma once
// One key's hourly use counts in a single small heap block: every bucket as three varints (hours
// since the previous bucket, count, rejected), the last one rewritten in place as uses arrive. A
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
  struct Block {
    uint32_t size;        // bytes used
    uint32_t capacity;    // bytes allocated after the header
    uint32_t last;        // offset of the last bucket
    uint32_t last_hour;   // hours since the epoch of the last bucket
    unsigned char data[];
  };
  struct Free {
    void operator()(Block* b) const { std::free(b); }
  };
  void Reserve(size_t bytes);

  std::unique_ptr<Block, Free> block_;
};

}  // namespace keyledger
