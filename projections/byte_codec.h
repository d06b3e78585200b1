#pragma once
// Little-endian fixed-width integers, LEB128 varints and length-prefixed strings, for the binary
// projection checkpoints (state_codec.cc). ByteReader never reads past its input: a short or
// malformed input sets failed() and reads as zeros from then on. Its input may still be arriving
// (ArrivingBytes): a read past what has arrived waits for the rest.

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

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

// Bytes of a known size that one thread appends while another reads them, so that a checkpoint
// is decoded while it is still being read from RocksDB. The buffer never moves.
class ArrivingBytes {
 public:
  explicit ArrivingBytes(size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}

  // For the writer: false, appending nothing, when `piece` would overflow the capacity.
  bool Append(std::string_view piece) {
    if (piece.size() > capacity_ - written_) return false;
    std::memcpy(data_.get() + written_, piece.data(), piece.size());
    written_ += piece.size();
    std::lock_guard lock(mutex_);
    arrived_ = written_;
    changed_.notify_all();
    return true;
  }
  // For the writer: nothing more will come.
  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  size_t written() const { return written_; }  // for the writer

  // For the reader: the bytes arrived from `offset` on, at least `n` of them unless the writer
  // closed before they came.
  std::string_view WaitFor(size_t offset, size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return arrived_ >= offset + n || closed_; });
    return offset > arrived_ ? std::string_view() : std::string_view(data_.get() + offset, arrived_ - offset);
  }
  const char* data() const { return data_.get(); }
  size_t capacity() const { return capacity_; }

 private:
  std::unique_ptr<char[]> data_;  // not zeroed: every byte read was written first
  const size_t capacity_;
  size_t written_ = 0;  // the writer's own count
  std::mutex mutex_;
  std::condition_variable changed_;
  size_t arrived_ = 0;  // guarded by mutex_
  bool closed_ = false;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  // Reads `source` as it arrives.
  explicit ByteReader(ArrivingBytes& source) : in_(source.WaitFor(0, 0)), source_(&source) {}
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
    in_ = source_->WaitFor(static_cast<size_t>(in_.data() - source_->data()), n);
    return in_.size() >= n;
  }

  std::string_view in_;
  ArrivingBytes* source_ = nullptr;
  bool failed_ = false;
};

}  // namespace keyledger
