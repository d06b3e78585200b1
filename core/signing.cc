#include "core/signing.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <fstream>
#include <sstream>

#include "core/hex.h"

namespace keyledger {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct CtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::shared_ptr<EVP_PKEY> Own(EVP_PKEY* key) { return {key, EVP_PKEY_free}; }

Result<PublicKey> RawPublic(EVP_PKEY* key) {
  PublicKey out{};
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1 || len != out.size()) {
    return Status::Invalid("not an Ed25519 key");
  }
  return out;
}

}  // namespace

Result<SigningKey> SigningKey::Generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!raw) return Status::Internal("Ed25519 key generation failed");
  SigningKey key;
  key.key_ = Own(raw);
  auto pub = RawPublic(raw);
  if (!pub.ok()) return pub.status();
  key.public_key_ = *pub;
  return key;
}

Result<SigningKey> SigningKey::LoadPem(const std::string& path) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return Status::NotFound("cannot read the signing key " + path);
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!raw) return Status::Invalid(path + " is not a PEM private key");
  SigningKey key;
  key.key_ = Own(raw);
  if (EVP_PKEY_get_base_id(raw) != EVP_PKEY_ED25519) {
    return Status::Invalid(path + " is not an Ed25519 key");
  }
  auto pub = RawPublic(raw);
  if (!pub.ok()) return pub.status();
  key.public_key_ = *pub;
  return key;
}

Result<SigningKey> SigningKey::LoadOrCreate(const std::string& path) {
  if (access(path.c_str(), F_OK) == 0) return LoadPem(path);
  auto key = Generate();
  if (!key.ok()) return key;
  if (Status s = key->SavePem(path); !s.ok()) return s;
  return key;
}

Status SigningKey::SavePem(const std::string& path) const {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Invalid("cannot create the signing key file " + path + " (it may exist)");
  std::unique_ptr<BIO, BioDeleter> mem(BIO_new(BIO_s_mem()));
  if (!mem || PEM_write_bio_PrivateKey(mem.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    close(fd);
    return Status::Internal("cannot encode the signing key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(mem.get(), &data);
  const bool written = write(fd, data, static_cast<size_t>(size)) == size && fsync(fd) == 0;
  close(fd);
  if (!written) return Status::Internal("cannot write the signing key file " + path);
  return Status::Ok();
}

std::string SigningKey::Sign(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  std::string signature(kSignatureSize, '\0');
  size_t len = signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      len != kSignatureSize) {
    throw std::runtime_error("Ed25519 signing failed");
  }
  return signature;
}

bool VerifySignature(const PublicKey& key, std::string_view message, std::string_view signature) {
  if (signature.size() != kSignatureSize) return false;
  auto pkey = Own(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  if (!pkey || !ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

std::string PublicKeyToHex(const PublicKey& key) {
  return BytesToHex({reinterpret_cast<const char*>(key.data()), key.size()});
}

std::string PublicKeyToPem(const PublicKey& key) {
  auto pkey = Own(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  std::unique_ptr<BIO, BioDeleter> mem(BIO_new(BIO_s_mem()));
  if (!pkey || !mem || PEM_write_bio_PUBKEY(mem.get(), pkey.get()) != 1) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(mem.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

Result<PublicKey> ParsePublicKey(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  if (text.size() == 64) {
    auto bytes = HexToBytes(text);
    if (!bytes) return Status::Invalid("the public key is not 64 hex digits");
    PublicKey key{};
    std::copy(bytes->begin(), bytes->end(), key.begin());
    return key;
  }
  std::unique_ptr<BIO, BioDeleter> mem(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  EVP_PKEY* raw = mem ? PEM_read_bio_PUBKEY(mem.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!raw) return Status::Invalid("the public key is neither 64 hex digits nor a PEM public key");
  auto owned = Own(raw);
  if (EVP_PKEY_get_base_id(raw) != EVP_PKEY_ED25519) return Status::Invalid("the public key is not Ed25519");
  return RawPublic(raw);
}

}  // namespace keyledger
