// Idempotency-Key on key creation: a retry with the same key and body returns the same key without
// its token and appends nothing; another body is a 409; the record survives a restart.

#include <boost/test/unit_test.hpp>
#include <set>
#include <thread>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {

size_t CountCreatedKeys(const std::vector<json::object>& events, const std::string& ws) {
  size_t n = 0;
  for (const json::object& e : events) {
    if (e.at("type").as_string() == "key.created" && e.at("workspace").is_string() &&
        e.at("workspace").as_string() == ws && e.at("data").as_object().at("kind").as_string() == "api") {
      ++n;
    }
  }
  return n;
}

void ExpectReplay(const HttpResponse& r, const std::string& id) {
  BOOST_TEST(r.status == 200u, r.body);
  json::object o = ParseObject(r.body);
  BOOST_TEST((o.contains("replayed") && o.at("replayed").is_bool() && o.at("replayed").as_bool()), r.body);
  BOOST_TEST((o.contains("token") && o.at("token").is_null()), r.body);
  BOOST_TEST(o.at("key").as_object().at("id").as_string() == id);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(idempotency)

BOOST_AUTO_TEST_CASE(retry_returns_the_same_key_once_and_survives_restart) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  const std::string body = R"({"name":"deploy bot","preset":"full_access","owner":"ci"})";
  const Headers idem = {{"Idempotency-Key", "create-deploy-bot-1"}};

  HttpResponse first = api.client().Post(KeysPath("acme"), body, admin.token, idem);
  BOOST_TEST_REQUIRE(first.status == 201u, first.body);
  json::object created = ParseObject(first.body);
  const std::string id(created.at("key").as_object().at("id").as_string());
  const std::string token(created.at("token").as_string());
  BOOST_TEST((!created.contains("replayed") || !created.at("replayed").as_bool()));

  ExpectReplay(api.client().Post(KeysPath("acme"), body, admin.token, idem), id);
  ExpectReplay(api.client().Post(KeysPath("acme"), body, admin.token, idem), id);
  BOOST_TEST(CountCreatedKeys(api.AllEvents(), "acme") == 1u);

  // Same key, another body.
  ExpectError(
      api.client().Post(KeysPath("acme"), R"({"name":"deploy bot","preset":"read_only","owner":"ci"})",
                        admin.token, idem),
      409, "conflict");
  // Another key, same body: a new key.
  HttpResponse other =
      api.client().Post(KeysPath("acme"), body, admin.token, {{"Idempotency-Key", "create-deploy-bot-2"}});
  BOOST_TEST_REQUIRE(other.status == 201u, other.body);
  BOOST_TEST(ParseObject(other.body).at("key").as_object().at("id").as_string() != id);
  BOOST_TEST(CountCreatedKeys(api.AllEvents(), "acme") == 2u);

  api.Restart();
  ExpectReplay(api.client().Post(KeysPath("acme"), body, admin.token, idem), id);
  ExpectError(api.client().Post(KeysPath("acme"), R"({"name":"deploy bot 2","preset":"full_access"})",
                                admin.token, idem),
              409, "conflict");
  BOOST_TEST(CountCreatedKeys(api.AllEvents(), "acme") == 2u);
  BOOST_TEST(api.Verify(token).at("code").as_string() == "VALID");
  // The replay never hands out the token: it appears in no later response.
  HttpResponse list = api.client().Get(KeysPath("acme") + "?status=all", admin.token);
  BOOST_TEST(list.body.find(token) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(idempotency_keys_are_per_workspace) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  api.CreateWorkspace("beta", "pro");
  IssuedKey acme = api.CreateAdminKey("acme");
  IssuedKey beta = api.CreateAdminKey("beta");
  const std::string body = R"({"name":"shared","preset":"read_only"})";
  const Headers idem = {{"Idempotency-Key", "same-key"}};
  HttpResponse a = api.client().Post(KeysPath("acme"), body, acme.token, idem);
  HttpResponse b = api.client().Post(KeysPath("beta"), body, beta.token, idem);
  BOOST_TEST(a.status == 201u, a.body);
  BOOST_TEST(b.status == 201u, b.body);
}

BOOST_AUTO_TEST_CASE(simultaneous_retries_create_one_key) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  const std::string body = R"({"name":"racing","preset":"read_only"})";
  constexpr int kClients = 8;
  std::vector<HttpResponse> responses(kClients);
  std::vector<std::string> errors(kClients);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      try {
        HttpClient c(api.port());
        c.Get("/healthz");  // connect first, so the creates start together
        ++ready;
        while (ready.load() < kClients) std::this_thread::yield();
        responses[i] = c.Post(KeysPath("acme"), body, admin.token, {{"Idempotency-Key", "race-1"}});
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  int created = 0;
  std::set<std::string> ids;
  for (int i = 0; i < kClients; ++i) {
    BOOST_TEST_REQUIRE(errors[i].empty(), errors[i]);
    BOOST_TEST((responses[i].status == 201u || responses[i].status == 200u), responses[i].body);
    created += responses[i].status == 201u;
    ids.emplace(ParseObject(responses[i].body).at("key").as_object().at("id").as_string());
  }
  BOOST_TEST(created == 1);
  BOOST_TEST(ids.size() == 1u);
  BOOST_TEST(CountCreatedKeys(api.AllEvents(), "acme") == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
