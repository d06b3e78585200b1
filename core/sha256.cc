#include "core/sha256.h"

#include "core/hex.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <utility>

namespace keyledger {
namespace {

struct MdDeleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct CtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* FetchedSha256() {
  static const std::unique_ptr<EVP_MD, MdDeleter> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!md) throw std::runtime_error("OpenSSL has no SHA256");
  return md.get();
}

EVP_MD_CTX* ThreadContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

Digest Compute(std::string_view a, std::string_view b) {
  EVP_MD_CTX* ctx = ThreadContext();
  Digest out{};
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(ctx, FetchedSha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, a.data(), a.size()) != 1 ||
      (!b.empty() && EVP_DigestUpdate(ctx, b.data(), b.size()) != 1) ||
      EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) {
    throw std::runtime_error("SHA-256 computation failed");
  }
  return out;
}

}  // namespace

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex2(ctx_, FetchedSha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    throw std::runtime_error("SHA-256 initialisation failed");
  }
}
Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(ctx_); }
Sha256Stream::Sha256Stream(Sha256Stream&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

void Sha256Stream::Update(std::string_view piece) {
  if (EVP_DigestUpdate(ctx_, piece.data(), piece.size()) != 1) throw std::runtime_error("SHA-256 computation failed");
}

Digest Sha256Stream::Finish() {
  Digest out{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &len) != 1 || len != out.size()) {
    throw std::runtime_error("SHA-256 computation failed");
  }
  return out;
}

Digest Sha256(std::string_view data) { return Compute(data, {}); }
Digest Sha256(std::string_view a, std::string_view b) { return Compute(a, b); }

std::string ToHex(const Digest& digest) { return BytesToHex(AsBytes(digest)); }

std::optional<Digest> DigestFromHex(std::string_view hex) {
  Digest out{};
  if (hex.size() != 64 || !HexToBytesInto(hex, out.data())) return std::nullopt;
  return out;
}

}  // namespace keyledger
