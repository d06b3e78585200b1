// The hash chain as /admin/v1/events serves it: contiguous seqs, each prev_hash the previous hash,
// and every hash recomputed here as SHA-256(prev_hash raw bytes ‖ canonical body).

#include <openssl/evp.h>

#include <boost/test/unit_test.hpp>
#include <regex>
#include <set>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {

std::string HexSha256(const std::string& prefix_bytes, const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, prefix_bytes.data(), prefix_bytes.size());
  EVP_DigestUpdate(ctx, body.data(), body.size());
  EVP_DigestFinal_ex(ctx, digest, &size);
  EVP_MD_CTX_free(ctx);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < size; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Some traffic touching every event type.
void MakeHistory(LedgerApi& api) {
  api.CreateWorkspace("acme", "pro");
  api.CreateWorkspace("beta", "free");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey a = api.CreateApiKey(
      "acme", admin.token,
      R"({"name":"unicode \u00e9\u4e2d \"quoted\" \\ back","preset":"full_access",)"
      R"("metadata":{"k":"v/\u00fc","emoji":"\ud83d\ude00"},"description":"tab-free <html> & 'quotes'"})");
  IssuedKey b = api.CreateApiKey("acme", admin.token, R"({"name":"reader","abilities":["invoices:read"]})");
  api.Verify(a.token, "invoices:write");
  api.Verify(b.token, "invoices:write");
  HttpResponse rot =
      api.client().Post(KeyPath("acme", a.id) + "/rotate", R"({"grace_seconds":0})", admin.token);
  BOOST_TEST_REQUIRE(rot.status == 201u, rot.body);
  HttpResponse rev =
      api.client().Post(KeyPath("acme", b.id) + "/revoke", R"({"reason":"gone"})", admin.token);
  BOOST_TEST_REQUIRE(rev.status == 200u, rev.body);
  api.Verify(b.token);
  api.SetPlan("beta", "pro");
}

void CheckChain(LedgerApi& api) {
  const std::vector<std::string> raw = api.AllEventsRaw(3);  // several pages
  BOOST_TEST_REQUIRE(!raw.empty());
  static const std::regex kTail(R"re(,"hash":"([0-9a-f]{64})"\}$)re");
  std::string prev_hash(64, '0');
  std::set<std::string> types;
  for (size_t i = 0; i < raw.size(); ++i) {
    BOOST_TEST_CONTEXT("event " << i + 1 << ": " << raw[i]) {
      json::object e = ParseObject(raw[i]);
      types.emplace(e.at("type").as_string());
      BOOST_TEST(e.at("seq").to_number<int64_t>() == static_cast<int64_t>(i + 1));
      BOOST_TEST(std::string(e.at("prev_hash").as_string()) == prev_hash);
      std::smatch m;
      BOOST_TEST_REQUIRE(std::regex_search(raw[i], m, kTail), "the event must end with \"hash\"");
      const std::string hash = m[1].str();
      BOOST_TEST(std::string(e.at("hash").as_string()) == hash);
      const std::string body = raw[i].substr(0, static_cast<size_t>(m.position(0))) + "}";
      BOOST_TEST(HexSha256(HexToBytes(e.at("prev_hash").as_string().c_str()), body) == hash);
      prev_hash = hash;
    }
  }
  for (const char* type : {"workspace.created", "workspace.updated", "key.created", "key.rotated",
                           "key.revoked", "key.expired", "key.used"}) {
    BOOST_TEST(types.count(type) == 1u, "the log has a " << type);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(chain)

BOOST_AUTO_TEST_CASE(events_form_a_verifiable_hash_chain) {
  LedgerApi api;
  MakeHistory(api);
  CheckChain(api);
}

BOOST_AUTO_TEST_CASE(chain_continues_across_restart) {
  LedgerApi api;
  MakeHistory(api);
  const std::vector<std::string> before = api.AllEventsRaw();
  api.Restart();
  BOOST_TEST(api.AllEventsRaw() == before, boost::test_tools::per_element());
  api.CreateWorkspace("gamma", "pro");
  CheckChain(api);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
