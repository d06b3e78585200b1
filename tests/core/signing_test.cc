#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/signing.h"

namespace keyledger {
namespace {

struct TempPath {
  std::filesystem::path dir;
  TempPath() {
    char pattern[] = "/tmp/keyledger-signing-XXXXXX";
    dir = mkdtemp(pattern);
  }
  ~TempPath() { std::filesystem::remove_all(dir); }
  std::string file(const char* name) const { return (dir / name).string(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(SigningTest)

BOOST_AUTO_TEST_CASE(signatures_verify_only_for_the_same_message_and_key) {
  auto key = SigningKey::Generate();
  BOOST_REQUIRE(key.ok());
  const std::string sig = key->Sign("seq=42");
  BOOST_TEST(sig.size() == kSignatureSize);
  BOOST_TEST(VerifySignature(key->public_key(), "seq=42", sig));
  BOOST_TEST(!VerifySignature(key->public_key(), "seq=43", sig));
  std::string flipped = sig;
  flipped[10] ^= 0x01;
  BOOST_TEST(!VerifySignature(key->public_key(), "seq=42", flipped));
  BOOST_TEST(!VerifySignature(key->public_key(), "seq=42", sig.substr(0, 63)));
  auto other = SigningKey::Generate();
  BOOST_TEST(!VerifySignature(other->public_key(), "seq=42", sig));
}

// RFC 8032 section 7.1, test 1: the empty message under a known key. An independent vector, so the
// test fails if we were not computing Ed25519 at all.
BOOST_AUTO_TEST_CASE(rfc8032_test_vector_verifies) {
  auto pub = ParsePublicKey("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  BOOST_REQUIRE(pub.ok());
  const std::string hex =
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
      "d25bf5f0595bbe24655141438e7a100b";
  std::string sig;
  for (size_t i = 0; i < hex.size(); i += 2) sig.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  BOOST_TEST(VerifySignature(*pub, "", sig));
  BOOST_TEST(!VerifySignature(*pub, "x", sig));
}

BOOST_AUTO_TEST_CASE(load_or_create_makes_a_private_file_once_and_reloads_it) {
  TempPath tmp;
  const std::string path = tmp.file("signing_key.pem");
  auto created = SigningKey::LoadOrCreate(path);
  BOOST_REQUIRE(created.ok());
  struct stat st{};
  BOOST_REQUIRE(stat(path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  auto loaded = SigningKey::LoadOrCreate(path);
  BOOST_REQUIRE(loaded.ok());
  BOOST_TEST((loaded->public_key() == created->public_key()));
  BOOST_TEST(VerifySignature(created->public_key(), "m", loaded->Sign("m")));
  BOOST_TEST(!created->SavePem(path).ok());  // never overwrites
}

BOOST_AUTO_TEST_CASE(public_keys_parse_from_hex_and_pem) {
  auto key = SigningKey::Generate();
  const PublicKey pub = key->public_key();
  BOOST_TEST((*ParsePublicKey(PublicKeyToHex(pub)) == pub));
  BOOST_TEST((*ParsePublicKey(" " + PublicKeyToHex(pub) + "\n") == pub));
  BOOST_TEST((*ParsePublicKey(PublicKeyToPem(pub)) == pub));
  BOOST_TEST(!ParsePublicKey("zz").ok());
  BOOST_TEST(!ParsePublicKey(std::string(64, 'g')).ok());
  BOOST_TEST(!ParsePublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
}

BOOST_AUTO_TEST_CASE(loading_garbage_or_a_missing_file_fails_clearly) {
  TempPath tmp;
  BOOST_TEST(!SigningKey::LoadPem(tmp.file("absent.pem")).ok());
  const std::string junk = tmp.file("junk.pem");
  std::ofstream(junk) << "not a key\n";
  auto loaded = SigningKey::LoadPem(junk);
  BOOST_TEST(!loaded.ok());
  BOOST_TEST(loaded.status().message().find("junk.pem") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger
