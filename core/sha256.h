#pragma once
// SHA-256 through OpenSSL 3 with the digest fetched once and a context reused per thread (the
// one-shot SHA256() refetches the algorithm each call and is ~4x slower for short inputs).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keyledger {

using Digest = std::array<uint8_t, 32>;

// Thread-safe (per-thread state).
Digest Sha256(std::string_view data);
// SHA-256 over the concatenation a ‖ b without copying.
Digest Sha256(std::string_view a, std::string_view b);

std::string ToHex(const Digest& digest);
// nullopt unless exactly 64 hex digits.
std::optional<Digest> DigestFromHex(std::string_view hex);

inline std::string_view AsBytes(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Hash for unordered containers keyed by a digest: its first 8 bytes are already uniform.
struct DigestHash {
  size_t operator()(const Digest& d) const noexcept {
    size_t h;
    static_assert(sizeof h <= sizeof(Digest));
    __builtin_memcpy(&h, d.data(), sizeof h);
    return h;
  }
};

}  // namespace keyledger
