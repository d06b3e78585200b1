#pragma once
// Ed25519 signatures (RFC 8032, through OpenSSL 3) for the signed chain-head checkpoints that let a
// reviewer prove the log was not edited.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace keyledger {

using PublicKey = std::array<uint8_t, 32>;
inline constexpr size_t kSignatureSize = 64;

// A private signing key. Copies share the key. Thread-safe.
class SigningKey {
 public:
  static Result<SigningKey> Generate();
  // PKCS#8 PEM, as `openssl genpkey -algorithm ED25519` writes it.
  static Result<SigningKey> LoadPem(const std::string& path);
  // Loads `path`, or creates a new key there (mode 0600, never overwriting) when it is absent.
  static Result<SigningKey> LoadOrCreate(const std::string& path);
  Status SavePem(const std::string& path) const;

  // 64 raw signature bytes.
  std::string Sign(std::string_view message) const;
  PublicKey public_key() const { return public_key_; }

 private:
  std::shared_ptr<EVP_PKEY> key_;
  PublicKey public_key_{};
};

bool VerifySignature(const PublicKey& key, std::string_view message, std::string_view signature);

// Public keys travel as 64 hex digits or as a PEM "PUBLIC KEY" block; both are accepted.
std::string PublicKeyToHex(const PublicKey& key);
std::string PublicKeyToPem(const PublicKey& key);
Result<PublicKey> ParsePublicKey(std::string_view text);

}  // namespace keyledger
