#pragma once
// A growable array whose elements never move: they live in fixed chunks of 2^kChunkBits, and
// element i is chunk i >> kChunkBits, slot i & mask. Where std::deque keeps only 512 bytes per
// node (four 104-byte key records) and so needs a map of a quarter-million node pointers at a
// million keys (2 MiB, a cache miss of its own before every record), this map stays a few KiB
// and in cache. Chunk memory is allocated uninitialized: slots are constructed as elements are
// appended, so a chunk's unused tail is not made resident.
//
// Snapshot() freezes the elements as they are, in O(chunks), for another thread to read while
// this vector goes on changing: the chunks are shared, and the first change to a shared chunk
// (Mutable, push_back) copies it first, so the snapshot's elements never change under it. Copies
// use T::Clone() when T has one (a deep copy), else T's copy constructor; a move-only T without
// Clone() cannot be snapshotted (Snapshot() does not compile).
//
// Move-only. Not thread-safe, except that a Snapshot is read-only and may be read on any thread
// (and outlive the vector) while the vector changes on its own: each chunk counts the snapshots
// holding it, released with memory_order_release and checked with acquire before a change in
// place (ThreadSanitizer-clean; shared_ptr's own count is read relaxed).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace keyledger {

template <typename T, size_t kChunkBits = 12>
class StableVector {
  struct Chunk;

 public:
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;

  // The elements of a StableVector at the time it was taken. Copyable; read-only.
  class Snapshot {
   public:
    size_t size() const { return size_; }
    const T& operator[](size_t i) const { return chunks_[i >> kChunkBits].get()->slots[i & kMask]; }
    // Lets go of the chunks that hold only elements below `end`, so that the vector changes
    // them in place again. REQUIRES: no element below `end` is read afterwards.
    void ReleaseBelow(size_t end) {
      for (size_t c = 0; c < chunks_.size() && (c + 1) * kChunkSize <= end; ++c) chunks_[c].Reset();
    }

   private:
    friend class StableVector;
    // A chunk held, and counted in its `snapshots` while held.
    class Hold {
     public:
      explicit Hold(std::shared_ptr<const Chunk> chunk) : chunk_(std::move(chunk)) {
        if (chunk_) chunk_->snapshots.fetch_add(1, std::memory_order_relaxed);
      }
      Hold(const Hold& other) : Hold(other.chunk_) {}
      Hold(Hold&& other) noexcept : chunk_(std::move(other.chunk_)) {}
      Hold& operator=(Hold other) noexcept {
        std::swap(chunk_, other.chunk_);
        return *this;
      }
      ~Hold() { Reset(); }
      // Release: every read of the chunk through this hold happens before the vector's next
      // change of it in place (Own's acquire load).
      void Reset() {
        if (!chunk_) return;
        chunk_->snapshots.fetch_sub(1, std::memory_order_release);
        chunk_.reset();
      }
      const Chunk* get() const { return chunk_.get(); }

     private:
      std::shared_ptr<const Chunk> chunk_;  // keeps it alive, also past the vector
    };
    std::vector<Hold> chunks_;
    size_t size_ = 0;
  };

  StableVector() = default;
  StableVector(StableVector&& other) noexcept
      : chunks_(std::exchange(other.chunks_, {})), slots_(std::exchange(other.slots_, {})),
        size_(std::exchange(other.size_, 0)) {}
  StableVector& operator=(StableVector&& other) noexcept {
    if (this != &other) {
      chunks_ = std::exchange(other.chunks_, {});
      slots_ = std::exchange(other.slots_, {});
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t i) const { return slots_[i >> kChunkBits][i & kMask]; }
  // Element i for changing it: its chunk is copied first when a snapshot shares it.
  T& Mutable(size_t i) {
    Own(i >> kChunkBits);
    return slots_[i >> kChunkBits][i & kMask];
  }

  // Strong guarantee: when an allocation or T's move (or copy) throws, nothing changed.
  void push_back(T value) {
    const size_t chunk = size_ >> kChunkBits;
    if (chunk == chunks_.size()) {
      AddChunk();
    } else {
      Own(chunk);
    }
    Chunk& c = *chunks_[chunk];
    ::new (static_cast<void*>(&c.slots[c.constructed])) T(std::move(value));
    ++c.constructed;
    ++size_;
  }

  // Allocates the chunks for `n` elements in all, without touching their memory, so that
  // push_back allocates nothing until then.
  void Reserve(size_t n) {
    const size_t chunks = (n + kChunkSize - 1) >> kChunkBits;
    if (chunks <= chunks_.size()) return;
    chunks_.reserve(chunks);
    slots_.reserve(chunks);
    while (chunks_.size() < chunks) AddChunk();
  }
  // The memory of the allocated slots past the last element, a span per chunk: to be made
  // resident ahead of the push_backs that will fill it (PrefaultForWriting, core/memory.h).
  std::vector<std::span<std::byte>> SpareMemory() const {
    std::vector<std::span<std::byte>> spare;
    for (size_t c = size_ >> kChunkBits; c < chunks_.size(); ++c) {
      const Chunk& chunk = *chunks_[c];
      auto* first = reinterpret_cast<std::byte*>(chunk.slots + chunk.constructed);
      spare.emplace_back(first, (kChunkSize - chunk.constructed) * sizeof(T));
    }
    return spare;
  }

  Snapshot TakeSnapshot() const {
    Snapshot s;
    s.chunks_.reserve(chunks_.size());
    for (const std::shared_ptr<Chunk>& chunk : chunks_) s.chunks_.emplace_back(chunk);
    s.size_ = size_;
    return s;
  }

 private:
  static constexpr size_t kMask = kChunkSize - 1;

  struct Chunk {
    T* const slots = std::allocator<T>().allocate(kChunkSize);
    size_t constructed = 0;
    mutable std::atomic<uint32_t> snapshots{0};  // snapshots holding it (Snapshot::Hold)

    Chunk() = default;
    Chunk(const Chunk&) = delete;
    Chunk& operator=(const Chunk&) = delete;
    ~Chunk() {
      for (size_t i = 0; i < constructed; ++i) slots[i].~T();
      std::allocator<T>().deallocate(slots, kChunkSize);
    }
  };

  static T CopyOf(const T& value) {
    if constexpr (requires { value.Clone(); }) {
      return value.Clone();
    } else {
      return value;
    }
  }

  // Strong guarantee, as push_back's.
  void AddChunk() {
    chunks_.reserve(chunks_.size() + 1);
    slots_.reserve(slots_.size() + 1);
    auto fresh = std::make_shared<Chunk>();
    slots_.push_back(fresh->slots);
    chunks_.push_back(std::move(fresh));
  }

  // Makes chunk `c` this vector's alone, copying it when a snapshot holds it too.
  void Own(size_t c) {
    if (chunks_[c]->snapshots.load(std::memory_order_acquire) == 0) return;
    auto copy = std::make_shared<Chunk>();
    const Chunk& shared = *chunks_[c];
    for (; copy->constructed < shared.constructed; ++copy->constructed) {
      ::new (static_cast<void*>(&copy->slots[copy->constructed])) T(CopyOf(shared.slots[copy->constructed]));
    }
    slots_[c] = copy->slots;
    chunks_[c] = std::move(copy);
  }

  std::vector<std::shared_ptr<Chunk>> chunks_;
  std::vector<T*> slots_;  // chunks_[i]->slots: the element lookup reads this map only
  size_t size_ = 0;
};

}  // namespace keyledger
