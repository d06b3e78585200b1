#pragma once
// SHA-256 through OpenSSL 3 with the digest fetched once and a context reused per thread (the
// one-shot SHA256() refetches the algorithm each call and is ~4x slower for short inputs).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace keyledger {

using Digest = std::array<uint8_t, 32>;

// Thread-safe (per-thread state).
Digest Sha256(std::string_view data);
// SHA-256 over the concatenation a ‖ b without copying.
Digest Sha256(std::string_view a, std::string_view b);

// SHA-256 of data that arrives in pieces (a checkpoint streamed as it is serialized).
// Not thread-safe; move-only.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(Sha256Stream&& other) noexcept;
  Sha256Stream& operator=(Sha256Stream&&) = delete;
  void Update(std::string_view piece);
  // The digest of every piece so far. REQUIRES: at most once, no Update after.
  Digest Finish();

 private:
  ::evp_md_ctx_st* ctx_;
};

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
