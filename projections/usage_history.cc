#include "projections/usage_history.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <stdexcept>
#include <cstring>
#include <new>

#include "projections/byte_codec.h"

namespace keyledger {
namespace {

size_t PutVarint(unsigned char* out, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    out[n++] = static_cast<unsigned char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<unsigned char>(v);
  return n;
}

constexpr size_t kMaxBucketBytes = 3 * 10;

// One bucket: varint hours since the previous bucket, varint count << 1 | (rejected > 0), and
// varint rejected only when that bit is set (most hours have no rejection). nullptr if malformed.
const unsigned char* GetBucket(const unsigned char* p, const unsigned char* end, uint64_t& delta,
                               uint64_t& count, uint64_t& rejected) {
  p = GetVarint(p, end, delta);
  if (!p) return nullptr;
  uint64_t flagged;
  p = GetVarint(p, end, flagged);
  if (!p) return nullptr;
  count = flagged >> 1;
  rejected = 0;
  if (flagged & 1) {
    p = GetVarint(p, end, rejected);
    if (!p || rejected == 0) return nullptr;
  }
  return p;
}

size_t PutCounts(unsigned char* out, uint64_t count, uint64_t rejected) {
  size_t n = PutVarint(out, count << 1 | (rejected > 0 ? 1 : 0));
  if (rejected > 0) n += PutVarint(out + n, rejected);
  return n;
}

// Block capacities: with the 10-byte header and malloc's 8 bytes each fills a glibc chunk exactly
// (16·m − 18: 14 → a 32-byte chunk, 30 → 48, ...); every 16 bytes up to 254, then ≥ 1.5× apart.
constexpr size_t kClasses = 64;
constexpr std::array<uint64_t, kClasses> kCapacities = [] {
  std::array<uint64_t, kClasses> c{};
  for (size_t k = 0; k < kClasses; ++k) {
    c[k] = k < 16 ? 16 * (k + 2) - 18 : (c[k - 1] * 3 / 2 + 18 + 15) / 16 * 16 - 18;
  }
  return c;
}();
static_assert(kCapacities[kClasses - 1] > UINT32_MAX, "every 32-bit size has a class");

// The smallest class holding `bytes`.
uint8_t ClassFor(size_t bytes) {
  const auto it = std::lower_bound(kCapacities.begin(), kCapacities.end(), bytes);
  return static_cast<uint8_t>(it - kCapacities.begin());
}

}  // namespace

void UsageHistory::Reserve(size_t bytes, bool exact) {
  const size_t used = block_ ? block_->size : 0;
  const size_t capacity = block_ ? kCapacities[block_->capacity_class] : 0;
  if (block_ && used + bytes <= capacity) return;
  if (used + bytes > UINT32_MAX) throw std::length_error("usage history over 4 GiB");
  const uint8_t grown_class = ClassFor(exact ? used + bytes : std::max(used + bytes, capacity + capacity / 2));
  auto* grown = static_cast<Block*>(std::realloc(block_.get(), offsetof(Block, data) + kCapacities[grown_class]));
  if (!grown) throw std::bad_alloc();
  if (!block_) {
    grown->size = grown->last_hour = 0;
    grown->last_len = 0;
  }
  grown->capacity_class = grown_class;
  (void)block_.release();
  block_.reset(grown);
}

UsageHistory UsageHistory::Clone() const {
  UsageHistory copy;
  if (!block_) return copy;
  auto* block = static_cast<Block*>(std::malloc(offsetof(Block, data) + kCapacities[block_->capacity_class]));
  if (!block) throw std::bad_alloc();
  std::memcpy(block, block_.get(), offsetof(Block, data) + block_->size);
  copy.block_.reset(block);
  return copy;
}

void UsageHistory::Count(TimeMs ts, bool valid) {
  const auto hour = static_cast<uint32_t>(ts / kHourMs);
  uint64_t delta, count = 0, rejected = 0;
  uint32_t at;  // where the bucket being counted in starts
  const bool same_bucket = block_ && block_->size > 0 && hour <= block_->last_hour;
  // A decision in the hour of the last bucket (or, in a log whose clock went back, an earlier one)
  // counts in the last bucket, rewritten in place with its counts one higher.
  if (same_bucket) {
    at = block_->size - block_->last_len;
    GetBucket(block_->data + at, block_->data + block_->size, delta, count, rejected);
  } else {
    at = block_ ? block_->size : 0;
    delta = hour - (block_ && block_->size > 0 ? block_->last_hour : 0);
  }
  ++count;
  if (!valid) ++rejected;
  unsigned char bucket[kMaxBucketBytes];
  size_t n = PutVarint(bucket, delta);
  n += PutCounts(bucket + n, count, rejected);
  const uint32_t used = block_ ? block_->size : 0;
  if (!block_ || at + n > used) Reserve(at + n - used);
  std::memcpy(block_->data + at, bucket, n);
  block_->last_len = static_cast<uint8_t>(n);
  block_->size = at + static_cast<uint32_t>(n);
  if (!same_bucket) block_->last_hour = hour;
}

std::vector<UsageBucket> UsageHistory::Buckets() const {
  std::vector<UsageBucket> out;
  if (!block_) return out;
  const unsigned char* p = block_->data;
  const unsigned char* end = p + block_->size;
  uint64_t hour = 0;
  while (p && p < end) {
    uint64_t delta, count, rejected;
    p = GetBucket(p, end, delta, count, rejected);
    if (!p) break;
    hour += delta;
    out.push_back({static_cast<TimeMs>(hour) * kHourMs, count, rejected});
  }
  return out;
}

std::string_view UsageHistory::bytes() const {
  if (!block_) return {};
  return {reinterpret_cast<const char*>(block_->data), block_->size};
}

bool UsageHistory::FromBytes(std::string_view bytes, UsageHistory& out) {
  out.block_.reset();
  if (bytes.empty()) return true;
  // Walk it once: it must be whole buckets, hours strictly ascending; remember the last.
  const auto* begin = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned char* p = begin;
  const unsigned char* end = begin + bytes.size();
  uint64_t hour = 0;
  size_t last = 0;
  bool first = true;
  while (p < end) {
    last = static_cast<size_t>(p - begin);
    uint64_t delta, count, rejected;
    p = GetBucket(p, end, delta, count, rejected);
    if (!p || (delta == 0 && !first) || rejected > count || hour + delta > UINT32_MAX) return false;
    hour += delta;
    first = false;
  }
  if (bytes.size() - last > kMaxBucketBytes) return false;
  out.Reserve(bytes.size(), /*exact=*/true);
  std::memcpy(out.block_->data, bytes.data(), bytes.size());
  out.block_->size = static_cast<uint32_t>(bytes.size());
  out.block_->last_len = static_cast<uint8_t>(bytes.size() - last);
  out.block_->last_hour = static_cast<uint32_t>(hour);
  return true;
}

}  // namespace keyledger
