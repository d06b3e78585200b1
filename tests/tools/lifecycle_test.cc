// A key's whole life over HTTP against the real server: create, use on every verify endpoint,
// rotate with and without grace, revoke, and the history that records it.

#include <boost/test/unit_test.hpp>
#include <regex>

#include "core/time_format.h"
#include "core/token.h"
#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {

std::string Str(const json::object& o, std::string_view key) {
  const json::value& v = o.at(key);
  return v.is_string() ? std::string(v.as_string()) : json::serialize(v);
}

int64_t Int(const json::object& o, std::string_view key) { return o.at(key).to_number<int64_t>(); }

std::vector<std::string> Types(const json::array& events) {
  std::vector<std::string> types;
  for (const json::value& e : events) types.push_back(Str(e.as_object(), "type"));
  return types;
}

json::array History(LedgerApi& api, const std::string& admin, const std::string& id) {
  HttpResponse r = api.client().Get(KeyPath("acme", id) + "/history", admin);
  BOOST_TEST_REQUIRE(r.status == 200u, r.body);
  return ParseObject(r.body).at("events").as_array();
}

// Outcomes of the key.used events in `events`, in order.
std::vector<std::string> UseOutcomes(const json::array& events) {
  std::vector<std::string> outcomes;
  for (const json::value& e : events) {
    if (Str(e.as_object(), "type") == "key.used") {
      outcomes.push_back(Str(e.as_object().at("data").as_object(), "outcome"));
    }
  }
  return outcomes;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(key_lifecycle_over_http) {
  LedgerApi api;
  HttpClient& c = api.client();

  json::object ws = api.CreateWorkspace("acme", "pro");
  BOOST_TEST(Str(ws, "id") == "acme");
  BOOST_TEST(Str(ws, "plan") == "pro");

  IssuedKey admin = api.CreateAdminKey("acme", "admin");
  BOOST_TEST(std::regex_match(admin.token, std::regex("kla_[0-9A-Za-z]{38}")), admin.token);
  BOOST_TEST(Str(admin.key, "kind") == "admin");
  BOOST_TEST(Str(admin.key, "role") == "admin");

  // Create: 201, the token shape, the display prefix.
  HttpResponse created = c.Post(KeysPath("acme"),
                                R"({"name":"billing","abilities":["invoices:read","invoices:write"],)"
                                R"("owner":"payments","metadata":{"team":"payments"}})",
                                admin.token);
  BOOST_TEST_REQUIRE(created.status == 201u, created.body);
  BOOST_TEST(created.Header("Content-Type").value_or("") == kJsonContentType);
  json::object body = ParseObject(created.body);
  const std::string token = Str(body, "token");
  json::object key = body.at("key").as_object();
  const std::string id = Str(key, "id");
  BOOST_TEST(std::regex_match(token, std::regex("kl_[0-9A-Za-z]{38}")), token);
  BOOST_TEST(CheckToken(token).has_value(), "checksum of " << token);
  BOOST_TEST(Str(key, "prefix") == token.substr(0, 12));
  BOOST_TEST(id.rfind("key_", 0) == 0u, id);
  BOOST_TEST(Str(key, "kind") == "api");
  BOOST_TEST(Str(key, "workspace") == "acme");
  BOOST_TEST(Str(key, "name") == "billing");
  BOOST_TEST(Str(key, "owner") == "payments");
  BOOST_TEST(Str(key, "status") == "active");
  BOOST_TEST(key.at("last_used_at").is_null());
  BOOST_TEST(Int(key, "usage_count") == 0);
  BOOST_TEST_REQUIRE(key.at("expires_at").is_string());
  BOOST_TEST(*ParseRfc3339(Str(key, "expires_at")) - *ParseRfc3339(Str(key, "created_at")) == 90 * kDayMs,
             "default expiry of 90 days");
  BOOST_TEST(key.at("metadata").as_object().at("team").as_string() == "payments");

  // /public/v1/me
  HttpResponse me = c.Get("/public/v1/me", token);
  BOOST_TEST_REQUIRE(me.status == 200u, me.body);
  BOOST_TEST(Str(ParseObject(me.body).at("key").as_object(), "id") == id);

  // /v1/keys/verify
  json::object verified = api.Verify(token, "invoices:read");
  BOOST_TEST(verified.at("valid").as_bool());
  BOOST_TEST(Str(verified, "code") == "VALID");
  BOOST_TEST(Str(verified, "workspace") == "acme");
  BOOST_TEST(Str(verified.at("key").as_object(), "id") == id);

  // /v1/authz, with the ability as a header and as a query parameter.
  HttpResponse allowed = c.Get("/v1/authz", token, {{"X-Required-Ability", "invoices:write"}});
  BOOST_TEST(allowed.status == 204u, allowed.body);
  BOOST_TEST(allowed.Header("X-Key-Id").value_or("") == id);
  BOOST_TEST(allowed.Header("X-Key-Workspace").value_or("") == "acme");
  BOOST_TEST(allowed.Header("X-Key-Name").value_or("") == "billing");
  BOOST_TEST(allowed.body.empty());
  HttpResponse allowed_by_query = c.Get("/v1/authz?ability=invoices:read", token);
  BOOST_TEST(allowed_by_query.status == 204u, allowed_by_query.body);

  // A rejected use: the key lacks the ability.
  json::object forbidden = api.Verify(token, "customers:read");
  BOOST_TEST(!forbidden.at("valid").as_bool());
  BOOST_TEST(Str(forbidden, "code") == "FORBIDDEN");

  // Four valid uses so far, visible on the key and in /usage.
  json::object got = api.GetKey("acme", admin.token, id);
  BOOST_TEST(Int(got, "usage_count") == 4);
  BOOST_TEST(got.at("last_used_at").is_string());
  HttpResponse usage = c.Get(KeyPath("acme", id) + "/usage", admin.token);
  BOOST_TEST_REQUIRE(usage.status == 200u, usage.body);
  json::object u = ParseObject(usage.body);
  BOOST_TEST(Int(u, "rejected") == 1);
  BOOST_TEST(Int(u, "total") == 5, "total counts every decision: 4 valid + 1 rejected; " << usage.body);
  BOOST_TEST(Str(u, "last_used_at") == Str(got, "last_used_at"));
  BOOST_TEST(!u.at("buckets").as_array().empty());

  // Rotate with an hour of grace: both keys verify.
  HttpResponse rotated = c.Post(KeyPath("acme", id) + "/rotate", R"({"grace_seconds":3600})", admin.token);
  BOOST_TEST_REQUIRE(rotated.status == 201u, rotated.body);
  json::object rot = ParseObject(rotated.body);
  const std::string token2 = Str(rot, "token");
  const std::string id2 = Str(rot.at("key").as_object(), "id");
  BOOST_TEST(std::regex_match(token2, std::regex("kl_[0-9A-Za-z]{38}")), token2);
  BOOST_TEST(id2 != id);
  BOOST_TEST(Str(rot.at("key").as_object(), "rotated_from") == id);
  BOOST_TEST(Str(rot.at("key").as_object(), "name") == "billing", "inherits the name");
  BOOST_TEST(Str(rot.at("key").as_object(), "owner") == "payments", "inherits the owner");
  BOOST_TEST((rot.at("key").as_object().at("abilities") == key.at("abilities")), "inherits the abilities");
  BOOST_TEST(Str(rot.at("replaced").as_object(), "id") == id);
  BOOST_TEST(Str(rot.at("replaced").as_object(), "rotated_to") == id2);
  BOOST_TEST(rot.at("replaced").as_object().at("grace_until").is_string());
  BOOST_TEST(Str(api.Verify(token2), "code") == "VALID");
  BOOST_TEST(Str(api.Verify(token), "code") == "VALID", "the old key is in its grace period");

  // Rotate the new key with no grace: it stops at once.
  HttpResponse rotated0 = c.Post(KeyPath("acme", id2) + "/rotate", R"({"grace_seconds":0})", admin.token);
  BOOST_TEST_REQUIRE(rotated0.status == 201u, rotated0.body);
  json::object rot0 = ParseObject(rotated0.body);
  const std::string token3 = Str(rot0, "token");
  const std::string id3 = Str(rot0.at("key").as_object(), "id");
  json::object expired = api.Verify(token2);
  BOOST_TEST(!expired.at("valid").as_bool());
  BOOST_TEST(Str(expired, "code") == "EXPIRED");
  BOOST_TEST(Str(api.GetKey("acme", admin.token, id2), "status") == "expired");
  BOOST_TEST(Str(api.Verify(token3), "code") == "VALID");
  // A key that is not active cannot be rotated.
  ExpectError(c.Post(KeyPath("acme", id2) + "/rotate", "{}", admin.token), 409, "conflict");
  HttpResponse me3 = c.Get("/public/v1/me", token3);
  BOOST_TEST(me3.status == 200u, me3.body);

  // Revoke: REVOKED on verify, 401 on /me and /v1/authz, 409 on a second revoke.
  HttpResponse revoked = c.Post(KeyPath("acme", id3) + "/revoke", R"({"reason":"leaked"})", admin.token,
                                {{"X-Actor", "alice@example.com"}});
  BOOST_TEST_REQUIRE(revoked.status == 200u, revoked.body);
  json::object rk = ParseObject(revoked.body);
  BOOST_TEST(Str(rk, "id") == id3);
  BOOST_TEST(Str(rk, "status") == "revoked");
  BOOST_TEST(rk.at("revoked_at").is_string());
  json::object after = api.Verify(token3);
  BOOST_TEST(!after.at("valid").as_bool());
  BOOST_TEST(Str(after, "code") == "REVOKED");
  BOOST_TEST(Str(after.at("key").as_object(), "status") == "revoked");
  ExpectJsonBody(c.Get("/public/v1/me", token3), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get("/v1/authz", token3, {{"X-Required-Ability", "invoices:read"}}), 401,
                 kUnauthorizedBody);
  ExpectError(c.Post(KeyPath("acme", id3) + "/revoke", "{}", admin.token), 409, "conflict");
  ExpectError(c.Post(KeyPath("acme", id3) + "/rotate", "{}", admin.token), 409, "conflict");

  // The histories.
  json::array h3 = History(api, admin.token, id3);
  const std::vector<std::string> t3 = Types(h3);
  BOOST_TEST_REQUIRE(!t3.empty());
  BOOST_TEST(t3.front() == "key.created");
  BOOST_TEST(std::count(t3.begin(), t3.end(), "key.revoked") == 1);
  for (const json::value& e : h3) {
    const json::object& o = e.as_object();
    if (Str(o, "type") == "key.revoked") {
      BOOST_TEST(Str(o, "actor") == "alice@example.com", "X-Actor is recorded in the event");
      BOOST_TEST(Str(o.at("data").as_object(), "reason") == "leaked");
    }
    if (Str(o, "type") == "key.created") BOOST_TEST(Str(o, "actor") == admin.id, "the acting credential");
  }
  const std::vector<std::string> o3 = UseOutcomes(h3);
  // verify VALID, /me VALID, then verify, /me and /v1/authz after the revocation.
  const std::vector<std::string> expected_o3 = {"valid", "valid", "revoked", "revoked", "revoked"};
  BOOST_TEST(o3 == expected_o3, boost::test_tools::per_element());
  const auto revoked_at = std::find(t3.begin(), t3.end(), "key.revoked") - t3.begin();
  for (size_t i = 0; i < h3.size(); ++i) {
    const json::object& e = h3[i].as_object();
    BOOST_TEST(Str(e, "key_id") == id3);
    if (Str(e, "type") == "key.used" && Str(e.at("data").as_object(), "outcome") == "valid") {
      BOOST_TEST(static_cast<long>(i) < revoked_at, "a valid use after key.revoked at " << i);
    }
  }

  json::array h1 = History(api, admin.token, id);
  const std::vector<std::string> t1 = Types(h1);
  BOOST_TEST(t1.front() == "key.created");
  BOOST_TEST(std::count(t1.begin(), t1.end(), "key.rotated") == 1);
  BOOST_TEST(std::count(t1.begin(), t1.end(), "key.expired") == 0, "still in its grace period");
  const std::vector<std::string> o1 = UseOutcomes(h1);
  BOOST_TEST(std::count(o1.begin(), o1.end(), "valid") == 5);
  BOOST_TEST(std::count(o1.begin(), o1.end(), "forbidden") == 1);

  json::array h2 = History(api, admin.token, id2);
  const std::vector<std::string> t2 = Types(h2);
  const std::vector<std::string> expected_t2 = {"key.created", "key.used", "key.rotated", "key.expired",
                                                "key.used"};
  BOOST_TEST(t2 == expected_t2, boost::test_tools::per_element());
  for (const json::value& e : h2) {
    if (Str(e.as_object(), "type") == "key.expired") {
      BOOST_TEST(Str(e.as_object().at("data").as_object(), "reason") == "rotated");
    }
  }
  BOOST_TEST(UseOutcomes(h2) == (std::vector<std::string>{"valid", "expired"}),
             boost::test_tools::per_element());
  // With grace 0 the key.expired is in the same batch as key.rotated: the very next event.
  int64_t rotated_seq = -1;
  std::string rotated_ts;
  for (const json::value& e : h2) {
    const json::object& o = e.as_object();
    if (Str(o, "type") == "key.rotated") {
      rotated_seq = Int(o, "seq");
      rotated_ts = Str(o, "ts");
    }
    if (Str(o, "type") == "key.expired") {
      BOOST_TEST(Int(o, "seq") == rotated_seq + 1);
      BOOST_TEST(Str(o, "ts") == rotated_ts);
    }
  }

  // Listing by status.
  HttpResponse active = c.Get(KeysPath("acme") + "?status=active", admin.token);
  BOOST_TEST_REQUIRE(active.status == 200u, active.body);
  json::array active_keys = ParseObject(active.body).at("keys").as_array();
  BOOST_TEST_REQUIRE(active_keys.size() == 1u, active.body);
  BOOST_TEST(Str(active_keys[0].as_object(), "id") == id, "only the key in its grace period is active");
  HttpResponse all = c.Get(KeysPath("acme") + "?status=all", admin.token);
  BOOST_TEST(ParseObject(all.body).at("keys").as_array().size() == 3u, all.body);
}

// API.md: "The new key inherits name, owner, abilities and metadata unless given."
BOOST_AUTO_TEST_CASE(rotation_gives_the_new_key_what_the_request_names) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey old = api.CreateApiKey(
      "acme", admin.token,
      R"({"name":"billing","preset":"full_access","owner":"payments","description":"nightly","metadata":{"team":"pay"}})");
  HttpClient& c = api.client();
  const std::string rotate = KeyPath("acme", old.id) + "/rotate";

  // Bad input is refused, naming the field, and changes nothing.
  const size_t events_before = api.AllEvents().size();
  ExpectError(c.Post(rotate, R"({"preset":"read_only","abilities":["invoices:read"]})", admin.token), 400,
              "invalid_request", "preset");
  ExpectError(c.Post(rotate, R"({"preset":"everything"})", admin.token), 400, "invalid_request", "preset");
  ExpectError(c.Post(rotate, R"({"abilities":["invoices"]})", admin.token), 400, "invalid_request", "abilities");
  ExpectError(c.Post(rotate, R"({"owner":7})", admin.token), 400, "invalid_request", "owner");
  ExpectError(c.Post(rotate, R"({"metadata":{"team":1}})", admin.token), 400, "invalid_request", "metadata");
  ExpectError(c.Post(rotate, R"({"name":"   "})", admin.token), 400, "invalid_request", "name");
  ExpectError(c.Post(rotate, R"({"expires_at":"tomorrow"})", admin.token), 400, "invalid_request", "expires_at");
  ExpectError(c.Post(rotate, R"({"expires_at":")" + Rfc3339FromNow(86400000) + R"(","expires_in_days":3})",
                     admin.token),
              400, "invalid_request", "expires_at");
  ExpectError(c.Post(rotate, R"({"expires_at":")" + Rfc3339FromNow(-60000) + R"("})", admin.token), 400,
              "invalid_request", "expires_at");
  BOOST_TEST(api.AllEvents().size() == events_before);
  BOOST_TEST(Str(api.GetKey("acme", admin.token, old.id), "status") == "active");

  // Owner, metadata, preset and expiry given; name and description inherited.
  const std::string expires_at = Rfc3339FromNow(int64_t{10} * 86400000);
  HttpResponse r = c.Post(rotate,
                          R"({"grace_seconds":60,"owner":"billing-team","metadata":{"team":"billing"},)"
                          R"("preset":"read_only","expires_at":")" + expires_at + R"("})",
                          admin.token);
  BOOST_TEST_REQUIRE(r.status == 201u, r.body);
  const json::object body = ParseObject(r.body);
  const json::object& key = body.at("key").as_object();
  BOOST_TEST(Str(key, "name") == "billing");
  BOOST_TEST(Str(key, "description") == "nightly");
  BOOST_TEST(Str(key, "owner") == "billing-team");
  BOOST_TEST(Str(key, "preset") == "read_only");
  BOOST_TEST(json::serialize(key.at("metadata")) == R"({"team":"billing"})");
  BOOST_TEST(Str(key, "expires_at") == expires_at);
  const json::object& replaced = body.at("replaced").as_object();
  BOOST_TEST(Str(replaced, "owner") == "payments", "the old key keeps what it had");
  BOOST_TEST(Str(replaced, "preset") == "full_access");
  const std::string token = Str(body, "token");
  BOOST_TEST(Str(api.Verify(token, "invoices:read"), "code") == "VALID");
  BOOST_TEST(Str(api.Verify(token, "invoices:write"), "code") == "FORBIDDEN");
  BOOST_TEST(Str(api.Verify(old.token, "invoices:write"), "code") == "VALID", "in its grace period");

  // Explicit abilities replace a preset; the key.created event records them.
  const std::string id = Str(key, "id");
  HttpResponse again = c.Post(KeyPath("acme", id) + "/rotate", R"({"abilities":["invoices:write"]})", admin.token);
  BOOST_TEST_REQUIRE(again.status == 201u, again.body);
  const json::object again_body = ParseObject(again.body);
  const json::object& newest = again_body.at("key").as_object();
  BOOST_TEST(newest.at("preset").is_null());
  BOOST_TEST(json::serialize(newest.at("abilities")) == R"(["invoices:write"])");
  BOOST_TEST(Str(newest, "owner") == "billing-team", "inherited from the key it replaced");
  int created_events = 0;
  for (const json::object& e : api.AllEvents()) {
    if (Str(e, "type") != "key.created" || Str(e, "key_id") != Str(newest, "id")) continue;
    ++created_events;
    BOOST_TEST(json::serialize(e.at("data").as_object().at("abilities")) == R"(["invoices:write"])");
  }
  BOOST_TEST(created_events == 1);
}

BOOST_AUTO_TEST_CASE(generated_operator_token_is_printed_once_and_works) {
  ServerProcess server;  // no KEYLEDGER_BOOTSTRAP_TOKEN: the server makes one
  server.Start();
  const std::string err = server.CurrentStderr();
  std::smatch m;
  BOOST_TEST_REQUIRE(std::regex_search(err, m, std::regex("klo_[0-9A-Za-z]{38}")),
                     "no operator token in stderr:\n"
                         << err);
  const std::string token = m.str();
  BOOST_TEST(CheckToken(token).has_value(), token);
  BOOST_TEST(CountOccurrences(err, token) == 1u,
             "API.md: the operator token is printed once to standard error; stderr:\n"
                 << err);
  BOOST_TEST(CountOccurrences(err, "klo_") == CountOccurrences(err, token), "one operator token only");

  HttpClient c(server.port());
  HttpResponse ws = c.Post("/admin/v1/workspaces", R"({"id":"acme","name":"Acme Inc","plan":"pro"})", token);
  BOOST_TEST(ws.status == 201u, ws.body);

  // A restart on the same data directory does not make or print another one.
  c.Close();
  BOOST_TEST_REQUIRE(server.Stop() == 0);
  server.Start();
  const std::string second = server.CurrentStderr();
  BOOST_TEST(CountOccurrences(second, "klo_") == 0u, "stderr after restart:\n" << second);
  HttpClient c2(server.port());
  HttpResponse got = c2.Get("/admin/v1/workspaces/acme", token);
  BOOST_TEST(got.status == 200u, got.body);
  BOOST_TEST(server.Stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
