// Expiry by the clock: a key past its expires_at verifies EXPIRED and the sweeper records a
// key.expired event ("expired"); a rotation's grace period ends with key.expired ("rotated").
// Polling is bounded by deadlines; the assertions are on answers and event content, not timing.

#include <boost/test/unit_test.hpp>
#include <thread>

#include "core/time_format.h"
#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {

constexpr auto kPollDeadline = std::chrono::seconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(50);

// Polls verify until it stops answering VALID; every answer before that must be VALID.
json::object VerifyUntilNotValid(LedgerApi& api, const std::string& token) {
  const auto deadline = std::chrono::steady_clock::now() + kPollDeadline;
  while (true) {
    json::object v = api.Verify(token);
    if (v.at("code").as_string() != "VALID") return v;
    BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline), "still VALID after the deadline");
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Polls the log until a key.expired event for `key_id` appears.
json::object WaitForExpiredEvent(LedgerApi& api, const std::string& key_id) {
  const auto deadline = std::chrono::steady_clock::now() + kPollDeadline;
  while (true) {
    for (const json::object& e : api.AllEvents()) {
      if (e.at("type").as_string() == "key.expired" && e.at("key_id").as_string() == key_id) return e;
    }
    BOOST_TEST_REQUIRE((std::chrono::steady_clock::now() < deadline), "no key.expired for " << key_id);
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Asserts that in log order no valid use of `key_id` follows its key.expired, and exactly one
// key.expired exists.
void ExpectNoValidUseAfterExpiry(LedgerApi& api, const std::string& key_id) {
  bool ended = false;
  int expired_events = 0;
  for (const json::object& e : api.AllEvents()) {
    if (!e.at("key_id").is_string() || e.at("key_id").as_string() != key_id) continue;
    if (e.at("type").as_string() == "key.expired") {
      ended = true;
      ++expired_events;
    }
    if (ended && e.at("type").as_string() == "key.used") {
      BOOST_TEST(e.at("data").as_object().at("outcome").as_string() != "valid", json::serialize(e));
    }
  }
  BOOST_TEST(expired_events == 1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(expiry)

BOOST_AUTO_TEST_CASE(key_expires_at_its_time_and_the_sweeper_records_it) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  const std::string expires_at = Rfc3339FromNow(2000);
  IssuedKey key = api.CreateApiKey(
      "acme", admin.token,
      R"({"name":"short-lived","preset":"full_access","expires_at":")" + expires_at + R"("})");
  BOOST_TEST(key.key.at("expires_at").as_string() == expires_at);
  BOOST_TEST(api.Verify(key.token).at("code").as_string() == "VALID");

  json::object v = VerifyUntilNotValid(api, key.token);
  BOOST_TEST(v.at("code").as_string() == "EXPIRED");
  BOOST_TEST(!v.at("valid").as_bool());

  json::object e = WaitForExpiredEvent(api, key.id);
  BOOST_TEST(e.at("data").as_object().at("reason").as_string() == "expired", json::serialize(e));
  BOOST_TEST(e.at("workspace").as_string() == "acme");
  const auto event_ts = ParseRfc3339(std::string(e.at("ts").as_string()));
  BOOST_TEST_REQUIRE(event_ts.has_value());
  BOOST_TEST(*event_ts >= *ParseRfc3339(expires_at),
             "key.expired at " << e.at("ts") << " before " << expires_at);
  ExpectNoValidUseAfterExpiry(api, key.id);

  BOOST_TEST(api.GetKey("acme", admin.token, key.id).at("status").as_string() == "expired");
  HttpResponse expired = api.client().Get(KeysPath("acme") + "?status=expired", admin.token);
  BOOST_TEST(expired.body.find(key.id) != std::string::npos, expired.body);
  HttpResponse active = api.client().Get(KeysPath("acme"), admin.token);
  BOOST_TEST(active.body.find(key.id) == std::string::npos, active.body);
  ExpectJsonBody(api.client().Get("/public/v1/me", key.token), 401, kUnauthorizedBody);
  ExpectError(api.client().Post(KeyPath("acme", key.id) + "/revoke", "{}", admin.token), 409, "conflict");
}

BOOST_AUTO_TEST_CASE(rotation_grace_ends_with_key_expired_rotated) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey key = api.CreateApiKey("acme", admin.token);
  HttpResponse rot =
      api.client().Post(KeyPath("acme", key.id) + "/rotate", R"({"grace_seconds":2})", admin.token);
  BOOST_TEST_REQUIRE(rot.status == 201u, rot.body);
  const std::string successor(ParseObject(rot.body).at("token").as_string());
  BOOST_TEST(api.Verify(key.token).at("code").as_string() == "VALID");

  json::object v = VerifyUntilNotValid(api, key.token);
  BOOST_TEST(v.at("code").as_string() == "EXPIRED");
  json::object e = WaitForExpiredEvent(api, key.id);
  BOOST_TEST(e.at("data").as_object().at("reason").as_string() == "rotated", json::serialize(e));
  ExpectNoValidUseAfterExpiry(api, key.id);
  BOOST_TEST(api.Verify(successor).at("code").as_string() == "VALID");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
