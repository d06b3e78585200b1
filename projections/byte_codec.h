#pragma once
// Little-endian fixed-width integers, LEB128 varints and length-prefixed strings, for the binary
// projection checkpoints (state_codec.cc). ByteReader never reads past its input: a short or
// malformed input sets failed() and reads as zeros from then on.

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace keyledger {

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

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool failed() const { return failed_; }
  bool at_end() const { return in_.empty(); }

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
    uint64_t v = 0;
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
  bool Need(size_t n) {
    if (failed_ || in_.size() < n) {
      failed_ = true;
      in_ = {};
      return false;
    }
    return true;
  }

  std::string_view in_;
  bool failed_ = false;
};

}  // namespace keyledger
