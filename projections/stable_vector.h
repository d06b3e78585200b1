#pragma once
// A growable array whose elements never move: they live in fixed chunks of 2^kChunkBits, and
// element i is chunk i >> kChunkBits, slot i & mask. Where std::deque keeps only 512 bytes per
// node (four 104-byte key records) and so needs a map of a quarter-million node pointers at a
// million keys (2 MiB, a cache miss of its own before every record), this map stays a few KiB
// and in cache. Chunk memory is allocated uninitialized: slots are constructed as elements are
// appended, so a chunk's unused tail is not made resident.
//
// Move-only. Not thread-safe.

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace keyledger {

template <typename T, size_t kChunkBits = 12>
class StableVector {
 public:
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;

  StableVector() = default;
  StableVector(StableVector&& other) noexcept
      : chunks_(std::exchange(other.chunks_, {})), size_(std::exchange(other.size_, 0)) {}
  StableVector& operator=(StableVector&& other) noexcept {
    if (this != &other) {
      Clear();
      chunks_ = std::exchange(other.chunks_, {});
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~StableVector() { Clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return chunks_[i >> kChunkBits][i & kMask]; }
  const T& operator[](size_t i) const { return chunks_[i >> kChunkBits][i & kMask]; }

  // Strong guarantee: when the allocation or T's move throws, nothing changed.
  void push_back(T value) {
    if ((size_ >> kChunkBits) == chunks_.size()) {
      chunks_.reserve(chunks_.size() + 1);
      chunks_.push_back(std::allocator<T>().allocate(kChunkSize));
    }
    ::new (static_cast<void*>(&(*this)[size_])) T(std::move(value));
    ++size_;
  }

 private:
  static constexpr size_t kMask = kChunkSize - 1;

  void Clear() {
    for (size_t i = 0; i < size_; ++i) (*this)[i].~T();
    for (T* chunk : chunks_) std::allocator<T>().deallocate(chunk, kChunkSize);
    chunks_.clear();
    size_ = 0;
  }

  std::vector<T*> chunks_;
  size_t size_ = 0;
};

}  // namespace keyledger
