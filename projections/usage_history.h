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

  // A copy of its own (UsageHistory is move-only: a copy allocates).
  UsageHistory Clone() const;

  // Counts one decision at `ts` (ms), valid or not. REQUIRES: ts not before the last counted.
  void Count(TimeMs ts, bool valid);
  std::vector<UsageBucket> Buckets() const;  // ascending
  bool empty() const { return !block_; }
  // Where the history lives (null when empty), for prefetching it without reading it.
  const void* address() const { return block_.get(); }

  // The encoded buckets, for checkpoints; FromBytes is its inverse (false when malformed).
  std::string_view bytes() const;
  static bool FromBytes(std::string_view bytes, UsageHistory& out);

 private:
  // 10 bytes of header. The capacity is one of a fixed series, named by its number, so neither
  // malloc nor a 4-byte field is asked for it; the last bucket is the last `last_len` bytes.
  struct Block {
    uint32_t size;            // bytes used
    uint32_t last_hour;       // hours since the epoch of the last bucket
    uint8_t last_len;         // bytes of the last bucket
    uint8_t capacity_class;   // capacity is kCapacities[capacity_class] (usage_history.cc)
    unsigned char data[];
  };
  struct Free {
    void operator()(Block* b) const { std::free(b); }
  };
  // Makes room for `bytes` more; grows by at least half unless `exact` (a restored history).
  void Reserve(size_t bytes, bool exact = false);

  std::unique_ptr<Block, Free> block_;
};

}  // namespace keyledger
