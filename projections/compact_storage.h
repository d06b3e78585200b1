#pragma once
// Building blocks that keep a million keys in memory at a few hundred bytes each: strings packed
// into shared blocks instead of one heap allocation apiece, interned values that many keys share,
// and an open-addressing index that stores 4-byte record numbers instead of keys.
//
// Not thread-safe.

#include <cstdint>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keyledger {

// Immutable strings packed back to back into 1 MiB blocks: each Pack() is one record of
// length-prefixed parts, addressed by a pointer that stays valid as long as the arena.
class TextArena {
 public:
  const char* Pack(std::initializer_list<std::string_view> parts);
  // The same, addressed by a 4-byte reference (block number, offset) instead of a pointer, for
  // records kept a million times. Up to 4096 blocks (4 GiB of strings).
  using Ref = uint32_t;
  Ref PackRef(std::initializer_list<std::string_view> parts);
  const char* Resolve(Ref ref) const { return blocks_[ref >> kOffsetBits].get() + (ref & kOffsetMask); }
  // The i-th part of a record made by Pack().
  static std::string_view Part(const char* record, size_t i);

  // The arena's records at the time it was taken, for another thread to read (and outlive the
  // arena) while the arena goes on packing: records never change once packed, and the blocks are
  // shared.
  class Snapshot {
   public:
    const char* Resolve(Ref ref) const { return blocks_[ref >> kOffsetBits].get() + (ref & kOffsetMask); }

   private:
    friend class TextArena;
    std::vector<std::shared_ptr<const char[]>> blocks_;
  };
  Snapshot TakeSnapshot() const;

 private:
  static constexpr size_t kOffsetBits = 20;
  static constexpr uint32_t kOffsetMask = (1u << kOffsetBits) - 1;
  static constexpr size_t kBlockSize = 1 << kOffsetBits;
  static constexpr size_t kMaxBlocks = size_t{1} << (32 - kOffsetBits);
  char* Allocate(size_t size);  // in the last block, or a new one (of its own when oversized)
  std::vector<std::shared_ptr<char[]>> blocks_;  // shared with snapshots
  size_t used_ = kBlockSize;  // in the last block
};

// Distinct strings numbered in the order they were first seen.
class StringPool {
 public:
  uint32_t Intern(std::string_view s);
  const std::string& operator[](uint32_t i) const { return strings_[i]; }
  size_t size() const { return strings_.size(); }

 private:
  std::deque<std::string> strings_;  // a deque never moves its elements: the map points into it
  std::unordered_map<std::string_view, uint32_t> numbers_;
};

// A hash index from some key (a digest, an id) to record numbers. Only the numbers are stored;
// the caller supplies each record's hash and an equality test, so the keys are not duplicated.
// Linear probing, at most 3/4 full. Each 4-byte slot holds a record number (26 bits) and 6 bits of
// its key's hash, so a probe that meets another key is rejected without reading that record and
// its strings (two cache misses apiece at a million keys): a lookup's equality test runs ~once.
class RecordIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  // Records numbered from 0 up to, not including, this: 67 M, beyond the 4 GiB of TextArena
  // strings that as many keys would need anyway.
  static constexpr uint32_t kMaxRecords = (1u << 26) - 1;

  // `hash_of(n)` is the hash of record n's key; used when the table grows.
  // REQUIRES: record < kMaxRecords (else throws std::length_error, the index unchanged).
  template <typename HashOf>
  void Insert(uint64_t hash, uint32_t record, HashOf&& hash_of) {
    if (record >= kMaxRecords) throw std::length_error("record index is full");
    if ((count_ + 1) * 4 > slots_.size() * 3) Grow(hash_of);
    Place(hash, record);
    ++count_;
  }
  // The record whose key `matches`, or kNone.
  template <typename Matches>
  uint32_t Find(uint64_t hash, Matches&& matches) const {
    if (slots_.empty()) return kNone;
    const uint32_t tag = TagOf(hash);
    for (size_t i = hash & mask_; slots_[i] != kEmpty; i = (i + 1) & mask_) {
      if ((slots_[i] & kTagMask) == tag && matches(slots_[i] & kRecordMask)) return slots_[i] & kRecordMask;
    }
    return kNone;
  }
  // The record in the first slot `hash` probes if its tag matches (else kNone): a hint for
  // prefetching, not a lookup.
  uint32_t FirstProbe(uint64_t hash) const {
    if (slots_.empty()) return kNone;
    const uint32_t slot = slots_[hash & mask_];
    return slot != kEmpty && (slot & kTagMask) == TagOf(hash) ? slot & kRecordMask : kNone;
  }
  const void* SlotAddress(uint64_t hash) const { return slots_.empty() ? nullptr : &slots_[hash & mask_]; }
  // Points the slot holding `from` (found through `hash`) at `to` instead.
  void Replace(uint64_t hash, uint32_t from, uint32_t to);
  void Reserve(size_t records);
  size_t size() const { return count_; }

 private:
  static constexpr int kRecordBits = 26;
  static constexpr uint32_t kRecordMask = (1u << kRecordBits) - 1;
  static constexpr uint32_t kTagMask = ~kRecordMask;
  // No record has all 26 bits set (kMaxRecords), so no occupied slot equals this.
  static constexpr uint32_t kEmpty = UINT32_MAX;
  // The hash's top bits: the slot position uses its low bits.
  static uint32_t TagOf(uint64_t hash) { return static_cast<uint32_t>(hash >> (64 - (32 - kRecordBits))) << kRecordBits; }

  void Place(uint64_t hash, uint32_t record) {
    size_t i = hash & mask_;
    while (slots_[i] != kEmpty) i = (i + 1) & mask_;
    slots_[i] = TagOf(hash) | record;
  }
  template <typename HashOf>
  void Grow(HashOf&& hash_of) {
    std::vector<uint32_t> old = std::move(slots_);
    Allocate(old.empty() ? 16 : old.size() * 2);
    for (uint32_t slot : old) {
      if (slot == kEmpty) continue;
      const uint32_t record = slot & kRecordMask;
      Place(hash_of(record), record);
    }
  }
  void Allocate(size_t capacity);

  std::vector<uint32_t> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

}  // namespace keyledger
