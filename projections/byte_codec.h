#pragma once
// Little-endian fixed-width integers, LEB128 varints and length-prefixed strings, for the binary
// projection checkpoints (state_codec.cc). ByteReader never reads past its input: a short or
// malformed input sets failed() and reads as zeros from then on. Its input may still be arriving
// (ArrivingBytes): a read past what has arrived waits for the rest.

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

#include "core/memory.h"

namespace keyledger {

// Reads a varint from [p, end); nullptr when it runs past `end` or over 64 bits (10 bytes).
inline const unsigned char* GetVarint(const unsigned char* p, const unsigned char* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    const unsigned char byte = *p++;
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return p;
  }
  return nullptr;
}

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void I64(int64_t v) {
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(static_cast<uint64_t>(v) >> (8 * i));
    out_.append(buf, 8);
  }
  void Varint(uint64_t v) {
    char buf[10];
    size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    out_.append(buf, n);
  }
  // Ascending numbers, each as the varint of its difference from the one before (the first from
  // 0). Written through a pointer into room made once: a workspace lists up to a million keys.
  void VarintDeltas(std::span<const uint32_t> ascending) {
    const size_t at = out_.size();
    out_.resize(at + ascending.size() * 5);  // a 32-bit varint takes at most 5 bytes
    char* p = out_.data() + at;
    uint32_t previous = 0;
    for (uint32_t n : ascending) {
      uint32_t v = n - previous;
      previous = n;
      while (v >= 0x80) {
        *p++ = static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
      }
      *p++ = static_cast<char>(v);
    }
    out_.resize(static_cast<size_t>(p - out_.data()));
  }
  void Bytes(std::string_view bytes) { out_.append(bytes); }
  void Str(std::string_view s) {
    Varint(s.size());
    out_.append(s);
  }

 private:
  std::string& out_;
};

// Bytes of a known total size that one thread appends while another reads them, so that a
// checkpoint is decoded while it is still being read from RocksDB. They pass through a window of
// a few MiB, reused round and round (MirroredMemory, core/memory.h): the bytes arrived since the
// reader's last Release() are in one piece. Until then they stay where they are, so views into
// them stay valid; the writer waits for room as the window fills. Loading a million-key checkpoint
// into a buffer of its size had cost 50,000 page faults on the reading thread and 160 MiB of
// memory at the peak of a start-up. Bytes that fit in the window, or a system without memfd, get
// a plain buffer of the whole size instead (nothing then wraps).
class ArrivingBytes {
 public:
  static constexpr size_t kWindow = 4 << 20;  // 64 of the checkpoint's 64 KiB chunks
  // `capacity`: the total size. `window`: rounded up to whole pages when a ring is made. Throws
  // std::bad_alloc when a whole-size buffer is needed and cannot be had.
  explicit ArrivingBytes(size_t capacity, size_t window = kWindow);

  // For the writer: appends `piece`, waiting for room while the reader still holds the window.
  // False, appending nothing, when `piece` would overflow the capacity; false, having appended
  // part of it, once `stop` is requested or the reader has Abandon()ed.
  bool Append(std::string_view piece, const std::stop_token& stop = {}) {
    if (piece.size() > capacity_ - written_) return false;
    while (!piece.empty()) {
      size_t room;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, stop, [&] { return abandoned_ || written_ - released_ < window_; });
        if (abandoned_ || stop.stop_requested()) return false;
        room = window_ - (written_ - released_);
      }
      // Bytes past what the reader has released: it reads none of them before they arrive.
      const size_t n = std::min(room, piece.size());
      std::memcpy(data_ + written_ % window_, piece.data(), n);
      piece.remove_prefix(n);
      std::lock_guard lock(mutex_);
      written_ += n;
      changed_.notify_all();
    }
    return true;
  }
  // For the writer: nothing more will come.
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  size_t written() const {  // for the writer
    std::lock_guard lock(mutex_);
    return written_;
  }

  // For the reader: the bytes arrived from `offset` on, at least `n` of them unless the writer
  // closed before they came or they cannot all be held at once: `n` bytes from `offset` and the
  // ones since the last Release() must fit in the window. REQUIRES: offset not below it.
  std::string_view WaitFor(size_t offset, size_t n) {
    std::unique_lock lock(mutex_);
    if (n <= window_ && offset - released_ <= window_ - n) {
      changed_.wait(lock, [&] { return written_ >= offset + n || closed_; });
    }
    if (offset > written_) return std::string_view(data_, 0);
    return std::string_view(data_ + offset % window_, written_ - offset);
  }
  // For the reader: the bytes before `offset` will not be read again; the writer may reuse them.
  void Release(size_t offset) {
    std::lock_guard lock(mutex_);
    released_ = std::max(released_, std::min(offset, written_));
    changed_.notify_all();
  }
  // For the reader: reads no more; the writer stops at its next Append.
  void Abandon() {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
    changed_.notify_all();
  }
  // For the writer: whether the reader has stopped reading (its Append then fails).
  bool abandoned() const {
    std::lock_guard lock(mutex_);
    return abandoned_;
  }
  size_t capacity() const { return capacity_; }
  size_t window() const { return window_; }

 private:
  std::optional<MirroredMemory> ring_;  // the window, when the bytes do not fit in it...
  std::unique_ptr<char[]> whole_;       // ...else a buffer of their whole size
  char* data_ = nullptr;
  size_t window_ = 0;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  size_t written_ = 0;   // guarded by mutex_ (read by the writer alone without it: no one else changes it)
  size_t released_ = 0;  // guarded by mutex_
  bool closed_ = false;     // guarded by mutex_
  bool abandoned_ = false;  // guarded by mutex_
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  // Reads `source` as it arrives.
  explicit ByteReader(ArrivingBytes& source) : in_(source.WaitFor(0, 0)), source_(&source), fetched_(in_.data()) {}
  bool failed() const { return failed_; }
  // True once every byte has been read (and, for arriving input, no more will come).
  bool at_end() {
    if (!in_.empty() || failed_ || !source_) return in_.empty();
    return !Arrive(1);
  }

  uint8_t U8() {
    if (!Need(1)) return 0;
    const auto v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return v;
  }
  int64_t I64() {
    if (!Need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return static_cast<int64_t>(v);
  }
  uint64_t Varint() {
    // Whole in what has arrived (a checkpoint's most common field): no Need() per byte.
    const auto* p = reinterpret_cast<const unsigned char*>(in_.data());
    uint64_t v = 0;
    if (const unsigned char* next = GetVarint(p, p + in_.size(), v)) [[likely]] {
      in_.remove_prefix(static_cast<size_t>(next - p));
      return v;
    }
    if (in_.size() >= kMaxVarint) {  // over 64 bits, not cut short
      Fail();
      in_ = {};
      return 0;
    }
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!Need(1)) return 0;
      const auto byte = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
    failed_ = true;
    return 0;
  }
  std::string_view Bytes(size_t n) {
    if (!Need(n)) return {};
    std::string_view v = in_.substr(0, n);
    in_.remove_prefix(n);
    return v;
  }
  std::string_view Str() { return Bytes(Varint()); }
  void Fail() { failed_ = true; }

  // Views of the bytes read so far are no longer used: an arriving input may reuse their room.
  // Cheap enough to call for every record; hands the room back a quarter-window at a time.
  void ReleaseRead() {
    if (!source_ || failed_) return;
    const size_t at = Position();
    if (at - released_ < source_->window() / 4) return;
    source_->Release(at);
    released_ = at;
  }

 private:
  static constexpr size_t kMaxVarint = 10;  // 7 bits a byte: 64 bits need 10
  bool Need(size_t n) {
    if (!failed_ && (in_.size() >= n || Arrive(n))) return true;
    failed_ = true;
    in_ = {};
    return false;
  }
  // Waits for `n` more bytes of an arriving input; false if there is none or they never come.
  bool Arrive(size_t n) {
    if (!source_) return false;
    fetched_at_ = Position();
    in_ = source_->WaitFor(fetched_at_, n);
    fetched_ = in_.data();
    return in_.size() >= n;
  }
  // Of an arriving input: the offset of the next byte to read. REQUIRES: not failed().
  size_t Position() const { return fetched_at_ + static_cast<size_t>(in_.data() - fetched_); }

  std::string_view in_;
  ArrivingBytes* source_ = nullptr;
  const char* fetched_ = nullptr;  // in_.data() when it was last fetched from source_,
  size_t fetched_at_ = 0;          // and its offset there
  size_t released_ = 0;            // the offset last handed to source_->Release()
  bool failed_ = false;
};

}  // namespace keyledger
