#include "projections/compact_storage.h"

#include <cstring>
#include <stdexcept>

namespace keyledger {
namespace {

size_t VarintSize(size_t n) {
  size_t size = 1;
  while (n >= 0x80) {
    n >>= 7;
    ++size;
  }
  return size;
}

char* PutVarint(char* out, size_t n) {
  while (n >= 0x80) {
    *out++ = static_cast<char>((n & 0x7f) | 0x80);
    n >>= 7;
  }
  *out++ = static_cast<char>(n);
  return out;
}

const char* GetVarint(const char* in, size_t* n) {
  size_t value = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<unsigned char>(*in++);
    value |= static_cast<size_t>(byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  *n = value;
  return in;
}

}  // namespace

char* TextArena::Allocate(size_t size) {
  if (size > kBlockSize) {
    // A block of its own, so that a reference to it still has offset 0; the next small record
    // starts a new block.
    if (blocks_.size() + 1 >= kMaxBlocks) throw std::length_error("text arena is full");
    blocks_.push_back(std::make_shared<char[]>(size));
    used_ = kBlockSize;
    return blocks_.back().get();
  }
  if (used_ + size > kBlockSize) {
    if (blocks_.size() + 1 >= kMaxBlocks) throw std::length_error("text arena is full");
    blocks_.push_back(std::make_shared_for_overwrite<char[]>(kBlockSize));
    used_ = 0;
  }
  char* out = blocks_.back().get() + used_;
  used_ += size;
  return out;
}

const char* TextArena::Pack(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view p : parts) size += VarintSize(p.size()) + p.size();
  char* out = Allocate(size);
  const char* record = out;
  for (std::string_view p : parts) {
    out = PutVarint(out, p.size());
    if (!p.empty()) std::memcpy(out, p.data(), p.size());
    out += p.size();
  }
  return record;
}

TextArena::Snapshot TextArena::TakeSnapshot() const {
  Snapshot s;
  s.blocks_.assign(blocks_.begin(), blocks_.end());
  return s;
}

TextArena::Ref TextArena::PackRef(std::initializer_list<std::string_view> parts) {
  const char* record = Pack(parts);
  const auto block = static_cast<Ref>(blocks_.size() - 1);
  return block << kOffsetBits | static_cast<Ref>(record - blocks_.back().get());
}

std::string_view TextArena::Part(const char* record, size_t i) {
  size_t len;
  const char* p = GetVarint(record, &len);
  for (; i > 0; --i) p = GetVarint(p + len, &len);
  return {p, len};
}

uint32_t StringPool::Intern(std::string_view s) {
  auto it = numbers_.find(s);
  if (it != numbers_.end()) return it->second;
  const auto number = static_cast<uint32_t>(strings_.size());
  strings_.emplace_back(s);
  numbers_.emplace(strings_.back(), number);
  return number;
}

void RecordIndex::Allocate(size_t capacity) {
  slots_.assign(capacity, kEmpty);
  mask_ = capacity - 1;
}

void RecordIndex::Reserve(size_t records) {
  if (count_ != 0) return;  // only before the first insert: growing needs the records' hashes
  size_t capacity = 16;
  while (capacity * 3 < records * 4) capacity *= 2;
  if (capacity > slots_.size()) Allocate(capacity);
}

void RecordIndex::Replace(uint64_t hash, uint32_t from, uint32_t to) {
  if (slots_.empty()) return;
  const uint32_t tag = TagOf(hash);
  for (size_t i = hash & mask_; slots_[i] != kEmpty; i = (i + 1) & mask_) {
    if (slots_[i] == (tag | from)) {
      slots_[i] = tag | to;
      return;
    }
  }
}

}  // namespace keyledger
