// Every error code of API.md with its exact body, the JSON content type on every error, the
// request id on every response, and: a bad request never changes state nor kills the process.

#include <boost/test/unit_test.hpp>
#include <set>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {
namespace bh = boost::beast::http;

// acme (pro) with an admin, an auditor and one API key; free-ws (free) with an admin.
struct Setup {
  LedgerApi api;
  IssuedKey admin;
  IssuedKey auditor;
  IssuedKey api_key;
  IssuedKey free_admin;

  Setup() {
    api.CreateWorkspace("acme", "pro");
    admin = api.CreateAdminKey("acme", "admin");
    auditor = api.CreateAdminKey("acme", "auditor", "compliance");
    api_key = api.CreateApiKey("acme", admin.token);
    api.CreateWorkspace("free-ws", "free");
    free_admin = api.CreateAdminKey("free-ws", "admin");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(invalid_request_names_the_field) {
  Setup s;
  HttpClient& c = s.api.client();
  const std::string keys = KeysPath("acme");
  ExpectError(c.Post(keys, R"({"name":"x","preset":"everything"})", s.admin.token), 400, "invalid_request",
              "preset");
  ExpectError(c.Post(keys, R"({"preset":"full_access"})", s.admin.token), 400, "invalid_request", "name");
  ExpectError(c.Post(keys, R"({"name":"","preset":"full_access"})", s.admin.token), 400, "invalid_request",
              "name");
  ExpectError(c.Post(keys, std::string(R"({"name":")") + std::string(101, 'n') + R"(","preset":"read_only"})",
                     s.admin.token),
              400, "invalid_request", "name");
  ExpectError(c.Post(keys, R"({"name":"x","preset":"full_access","colour":"red"})", s.admin.token), 400,
              "invalid_request", "colour");
  ExpectError(c.Post(keys, R"({"name":"x","preset":"full_access","expires_at":"yesterday"})", s.admin.token),
              400, "invalid_request", "expires_at");
  ExpectError(c.Post(keys, R"({"name":"x","preset":"full_access","expires_at":"2001-01-01T00:00:00.000Z"})",
                     s.admin.token),
              400, "invalid_request", "expires_at");
  ExpectError(c.Post(keys,
                     R"({"name":"x","preset":"full_access","expires_at":")" +
                         Rfc3339FromNow(400 * 86400000LL) + R"("})",
                     s.admin.token),
              400, "invalid_request", "expires_at");
  ExpectError(c.Post(keys, R"({"name":"x","preset":"full_access","expires_in_days":10000})", s.admin.token),
              400, "invalid_request", "expires_in_days");
  ExpectError(c.Post(keys, R"({"name":"x","abilities":["invoices:delete"]})", s.admin.token), 400,
              "invalid_request");
  ExpectError(c.Post(keys, R"({"name":"x","preset":"full_access")", s.admin.token), 400, "invalid_request");
  ExpectError(c.Get(keys + "?limit=0", s.admin.token), 400, "invalid_request", "limit");
  ExpectError(c.Get(keys + "?limit=1001", s.admin.token), 400, "invalid_request", "limit");
  ExpectError(c.Get(keys + "?status=sleeping", s.admin.token), 400, "invalid_request", "status");
  // A misspelt parameter on an admin route is refused, not ignored: ?asof= answering for the
  // present would mislead a compliance query. Verification routes read only what they know.
  ExpectError(c.Get(keys + "?asof=2026-11-23T10:00:00.000Z", s.admin.token), 400, "invalid_request", "asof");
  ExpectError(c.Get("/admin/v1/workspaces/acme/audit?kind=key.created", s.admin.token), 400, "invalid_request",
              "kind");
  ExpectError(c.Get("/admin/v1/workspaces/acme/review?limit=5", s.admin.token), 400, "invalid_request", "limit");
  BOOST_TEST(c.Get(keys + "?status=all&limit=5&cursor=&as_of=" + Rfc3339FromNow(-1000), s.admin.token).status == 200u);
  BOOST_TEST(c.Get("/admin/v1/workspaces/acme/audit?type=key.created&type=key.revoked&order=desc&actor=x&key_id=" +
                       s.api_key.id + "&from=2026-11-23T10:00:00.000Z&limit=5",
                   s.admin.token)
                 .status == 200u);
  BOOST_TEST(c.Get("/public/v1/me?utm_source=x", s.api_key.token).status == 200u);
  ExpectError(c.Get("/admin/v1/events?limit=0", s.api.operator_token()), 400, "invalid_request", "limit");
  ExpectError(c.Post("/admin/v1/workspaces", R"({"id":"A!","plan":"pro"})", s.api.operator_token()), 400,
              "invalid_request", "id");
  ExpectError(c.Post("/admin/v1/workspaces", R"({"id":"gamma","plan":"gold"})", s.api.operator_token()), 400,
              "invalid_request", "plan");
  // An admin key's role is never chosen for the caller: without one, no key.
  const std::string admin_keys = "/admin/v1/workspaces/acme/admin-keys";
  ExpectError(c.Post(admin_keys, R"({"name":"no role"})", s.api.operator_token()), 400, "invalid_request", "role");
  ExpectError(c.Post(admin_keys, R"({"name":"bad role","role":"owner"})", s.api.operator_token()), 400,
              "invalid_request", "role");
  ExpectError(c.Post(KeyPath("acme", s.api_key.id) + "/rotate", R"({"grace_seconds":604801})", s.admin.token),
              400, "invalid_request", "grace_seconds");
  // Blank text is no name.
  ExpectError(c.Post(keys, R"({"name":"   ","preset":"full_access"})", s.admin.token), 400, "invalid_request",
              "name");
  // Numbers too large to read are the field's fault, not the JSON's; a malformed one is the JSON's.
  ExpectError(c.Post(keys, R"({"name":"x","preset":"full_access","expires_in_days":18446744073709551616})",
                     s.admin.token),
              400, "invalid_request", "expires_in_days");
  ExpectError(c.Post(KeyPath("acme", s.api_key.id) + "/rotate", R"({"grace_seconds": -99999999999999999999 })",
                     s.admin.token),
              400, "invalid_request", "grace_seconds");
  ExpectError(c.Post("/v1/keys/verify", R"({"token":"kl_x","cost":1e400})"), 400, "invalid_request", "cost");
  HttpResponse malformed = c.Post(keys, R"({"name":"x","preset":"full_access","expires_in_days":012})", s.admin.token);
  ExpectError(malformed, 400, "invalid_request");
  BOOST_TEST(!ParseObject(malformed.body).contains("field"));
  // A field given twice: which one counts would be the parser's choice.
  ExpectError(c.Post("/v1/keys/verify", R"({"token":")" + s.api_key.token + R"(","token":"kl_x"})"), 400,
              "invalid_request", "token");
  // A time range that ends before it starts.
  const std::string from_after_to = "?from=2026-11-23T10:00:00.001Z&to=2026-11-23T10:00:00.000Z";
  ExpectError(c.Get("/admin/v1/workspaces/acme/audit" + from_after_to, s.admin.token), 400, "invalid_request",
              "from");
  ExpectError(c.Get(KeyPath("acme", s.api_key.id) + "/history" + from_after_to, s.admin.token), 400,
              "invalid_request", "from");
  ExpectError(c.Get(KeyPath("acme", s.api_key.id) + "/usage" + from_after_to, s.admin.token), 400,
              "invalid_request", "from");
  BOOST_TEST(c.Get(KeyPath("acme", s.api_key.id) + "/usage?from=2026-11-23T10:00:00.000Z&to=2026-11-23T10:00:00.000Z",
                   s.admin.token)
                 .status == 200u,
             "an empty range is a range");
}

BOOST_AUTO_TEST_CASE(unauthorized_body_is_exact) {
  Setup s;
  HttpClient& c = s.api.client();
  const std::string keys = KeysPath("acme");
  std::string bad_checksum = s.admin.token;
  bad_checksum.back() = bad_checksum.back() == 'A' ? 'B' : 'A';
  // No, garbage, bad-checksum, unknown credentials on an admin route.
  ExpectJsonBody(c.Get(keys), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get(keys, "garbage"), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get(keys, bad_checksum), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get(keys, RandomToken("kla")), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get(keys, {}, {{"Authorization", "Basic " + s.admin.token}}), 401, kUnauthorizedBody);
  // An API key is never accepted on /admin.
  ExpectJsonBody(c.Get(keys, s.api_key.token), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Post("/admin/v1/workspaces", R"({"id":"zeta","plan":"pro"})", s.api_key.token), 401,
                 kUnauthorizedBody);
  // The admin key on the protected API.
  ExpectJsonBody(c.Get("/public/v1/me", s.admin.token), 401, kUnauthorizedBody);
  // No, garbage, bad-checksum and revoked tokens on the protected API.
  ExpectJsonBody(c.Get("/public/v1/me"), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get("/public/v1/me", "garbage"), 401, kUnauthorizedBody);
  std::string api_bad_checksum = s.api_key.token;
  api_bad_checksum.back() = api_bad_checksum.back() == 'A' ? 'B' : 'A';
  ExpectJsonBody(c.Get("/public/v1/me", api_bad_checksum), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get("/v1/authz"), 401, kUnauthorizedBody);
  HttpResponse revoked = c.Post(KeyPath("acme", s.api_key.id) + "/revoke", "{}", s.admin.token);
  BOOST_TEST_REQUIRE(revoked.status == 200u, revoked.body);
  ExpectJsonBody(c.Get("/public/v1/me", s.api_key.token), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get("/v1/authz", s.api_key.token), 401, kUnauthorizedBody);
}

BOOST_AUTO_TEST_CASE(upgrade_required) {
  Setup s;
  HttpClient& c = s.api.client();
  ExpectJsonBody(
      c.Post(KeysPath("free-ws"), R"({"name":"billing","preset":"full_access"})", s.free_admin.token), 402,
      kUpgradeRequiredBody);

  // A pro workspace downgraded to free: its keys verify as UPGRADE_REQUIRED.
  s.api.SetPlan("acme", "free");
  json::object v = s.api.Verify(s.api_key.token);
  BOOST_TEST(!v.at("valid").as_bool());
  BOOST_TEST(v.at("code").as_string() == "UPGRADE_REQUIRED");
  ExpectJsonBody(c.Post(KeysPath("acme"), R"({"name":"more","preset":"full_access"})", s.admin.token), 402,
                 kUpgradeRequiredBody);
  // And back.
  s.api.SetPlan("acme", "pro");
  BOOST_TEST(s.api.Verify(s.api_key.token).at("code").as_string() == "VALID");
}

BOOST_AUTO_TEST_CASE(forbidden_body_is_exact) {
  Setup s;
  HttpClient& c = s.api.client();
  // An auditor cannot create, rotate or revoke.
  ExpectJsonBody(c.Post(KeysPath("acme"), R"({"name":"x","preset":"full_access"})", s.auditor.token), 403,
                 kForbiddenBody);
  ExpectJsonBody(c.Post(KeyPath("acme", s.api_key.id) + "/rotate", "{}", s.auditor.token), 403,
                 kForbiddenBody);
  ExpectJsonBody(c.Post(KeyPath("acme", s.api_key.id) + "/revoke", "{}", s.auditor.token), 403,
                 kForbiddenBody);
  // ... but may read.
  BOOST_TEST(c.Get(KeysPath("acme"), s.auditor.token).status == 200u);
  BOOST_TEST(c.Get(KeyPath("acme", s.api_key.id) + "/history", s.auditor.token).status == 200u);
  BOOST_TEST(c.Get("/admin/v1/workspaces/acme/audit", s.auditor.token).status == 200u);
  BOOST_TEST(c.Get(KeyPath("acme", s.api_key.id) + "/usage", s.auditor.token).status == 200u);
  // An admin of another workspace.
  ExpectJsonBody(c.Get(KeysPath("acme"), s.free_admin.token), 403, kForbiddenBody);
  // An admin on operator routes.
  ExpectJsonBody(c.Post("/admin/v1/workspaces", R"({"id":"zeta","plan":"pro"})", s.admin.token), 403,
                 kForbiddenBody);
  ExpectJsonBody(c.Get("/admin/v1/events", s.admin.token), 403, kForbiddenBody);
  ExpectJsonBody(c.Patch("/admin/v1/workspaces/acme", R"({"plan":"free"})", s.admin.token), 403,
                 kForbiddenBody);
  ExpectJsonBody(
      c.Post("/admin/v1/workspaces/acme/admin-keys", R"({"name":"me too","role":"admin"})", s.admin.token),
      403, kForbiddenBody);
  // Whoever may not act gets 403 whatever they sent: the body and parameters are not read first.
  ExpectJsonBody(c.Post(KeysPath("acme"), "{", s.auditor.token), 403, kForbiddenBody);
  ExpectJsonBody(c.Post(KeysPath("acme"), "{}", s.free_admin.token), 403, kForbiddenBody);
  ExpectJsonBody(c.Post(KeyPath("acme", s.api_key.id) + "/rotate", R"({"grace_seconds":-1})", s.free_admin.token),
                 403, kForbiddenBody);
  ExpectJsonBody(c.Get(KeysPath("acme") + "?limit=0", s.free_admin.token), 403, kForbiddenBody);
  ExpectJsonBody(c.Get("/admin/v1/workspaces/acme/audit?type=nonsense", s.free_admin.token), 403, kForbiddenBody);
  ExpectJsonBody(c.Post("/admin/v1/workspaces", R"({"id":"A!"})", s.admin.token), 403, kForbiddenBody);
  ExpectJsonBody(c.Get("/admin/v1/events?after=x", s.admin.token), 403, kForbiddenBody);
  // /v1/authz for a key without the ability.
  IssuedKey reader = s.api.CreateApiKey("acme", s.admin.token, R"({"name":"reports","preset":"read_only"})");
  ExpectJsonBody(c.Get("/v1/authz", reader.token, {{"X-Required-Ability", "invoices:write"}}), 403,
                 kForbiddenBody);
  ExpectJsonBody(c.Get("/v1/authz?ability=invoices:write", reader.token), 403, kForbiddenBody);
}

BOOST_AUTO_TEST_CASE(not_found_and_method_not_allowed) {
  Setup s;
  HttpClient& c = s.api.client();
  ExpectError(c.Get(KeyPath("acme", "key_doesnotexist0000000"), s.admin.token), 404, "not_found");
  ExpectError(c.Post(KeyPath("acme", "key_doesnotexist0000000") + "/revoke", "{}", s.admin.token), 404,
              "not_found");
  // An admin key's id is not an API key of the workspace.
  ExpectError(c.Get(KeyPath("acme", s.admin.id), s.admin.token), 404, "not_found");
  ExpectError(c.Get("/admin/v1/workspaces/nowhere", s.api.operator_token()), 404, "not_found");
  ExpectError(c.Get("/no/such/route"), 404, "not_found");
  ExpectError(c.Get("/admin/v1/nothing-here", s.api.operator_token()), 404, "not_found");

  HttpResponse del =
      c.Request(bh::verb::delete_, KeysPath("acme"), {{"Authorization", "Bearer " + s.admin.token}});
  ExpectError(del, 405, "method_not_allowed");
  const std::string allow = del.Header("Allow").value_or("");
  BOOST_TEST(allow.find("GET") != std::string::npos, "Allow: " << allow);
  BOOST_TEST(allow.find("POST") != std::string::npos, "Allow: " << allow);
  HttpResponse get_verify = c.Get("/v1/keys/verify");
  ExpectError(get_verify, 405, "method_not_allowed");
  BOOST_TEST(get_verify.Header("Allow").value_or("") == "POST");
}

BOOST_AUTO_TEST_CASE(conflicts) {
  Setup s;
  HttpClient& c = s.api.client();
  ExpectError(
      c.Post("/admin/v1/workspaces", R"({"id":"acme","name":"Again","plan":"pro"})", s.api.operator_token()),
      409, "conflict");
  const std::string body = R"({"name":"deploy","preset":"full_access"})";
  HttpResponse first = c.Post(KeysPath("acme"), body, s.admin.token, {{"Idempotency-Key", "conflict-1"}});
  BOOST_TEST_REQUIRE(first.status == 201u, first.body);
  ExpectError(c.Post(KeysPath("acme"), R"({"name":"deploy2","preset":"full_access"})", s.admin.token,
                     {{"Idempotency-Key", "conflict-1"}}),
              409, "conflict");
}

BOOST_AUTO_TEST_CASE(transport_limits) {
  Setup s;
  HttpClient& c = s.api.client();
  // 65 KiB of JSON.
  const std::string big = R"({"token":")" + std::string(65 * 1024, 'a') + R"("})";
  HttpResponse too_large = c.Post("/v1/keys/verify", big, {}, {{"X-Request-Id", "big-body-1"}});
  ExpectError(too_large, 413, "body_too_large");
  BOOST_TEST(too_large.Header("X-Request-Id").value_or("") == "big-body-1");
  // Just under the limit is fine.
  const std::string fits = R"({"token":")" + std::string(60 * 1024, 'a') + R"("})";
  HttpResponse ok = c.Post("/v1/keys/verify", fits);
  BOOST_TEST(ok.status == 200u, ok.body.substr(0, 200));

  ExpectError(c.Post("/v1/keys/verify", R"({"token":"x"})", {}, {{"Content-Type", "text/plain"}}), 415,
              "unsupported_media_type");
  ExpectError(c.Post(KeysPath("acme"), R"({"name":"x","preset":"full_access"})", s.admin.token,
                     {{"Content-Type", "application/x-www-form-urlencoded"}}),
              415, "unsupported_media_type");

  HttpResponse huge_headers = c.Get("/healthz", {}, {{"X-Padding", std::string(9 * 1024, 'p')}});
  ExpectError(huge_headers, 431, "headers_too_large");

  // The server lives on.
  HttpResponse health = c.Get("/healthz");
  BOOST_TEST(health.status == 200u);
}

BOOST_AUTO_TEST_CASE(every_response_has_a_request_id) {
  Setup s;
  HttpClient& c = s.api.client();
  const std::vector<HttpResponse> responses = {
      c.Get("/healthz"),
      c.Get("/readyz"),
      c.Get(KeysPath("acme"), s.admin.token),
      c.Get(KeysPath("acme")),
      c.Get("/nope"),
      c.Post("/v1/keys/verify", R"({"token":"x"})"),
      c.Get("/v1/authz", s.api_key.token),
      c.Post("/v1/keys/verify", "{", {}),
  };
  std::set<std::string> ids;
  for (const HttpResponse& r : responses) {
    const auto id = r.Header("X-Request-Id");
    BOOST_TEST_REQUIRE(id.has_value(), "no X-Request-Id on a " << r.status);
    BOOST_TEST(!id->empty());
    ids.insert(*id);
  }
  BOOST_TEST(ids.size() == responses.size(), "request ids are distinct");

  // Echoed when the client sends one, on success and on errors.
  const Headers mine = {{"X-Request-Id", "req-abc-123"}};
  BOOST_TEST(c.Get("/healthz", {}, mine).Header("X-Request-Id").value_or("") == "req-abc-123");
  BOOST_TEST(c.Get(KeysPath("acme"), s.admin.token, mine).Header("X-Request-Id").value_or("") ==
             "req-abc-123");
  BOOST_TEST(c.Get(KeysPath("acme"), "garbage", mine).Header("X-Request-Id").value_or("") == "req-abc-123");
  BOOST_TEST(c.Get("/nope", {}, mine).Header("X-Request-Id").value_or("") == "req-abc-123");
  BOOST_TEST(c.Get("/v1/authz", s.api_key.token, mine).Header("X-Request-Id").value_or("") == "req-abc-123");
  BOOST_TEST(c.Post("/v1/keys/verify", R"({"token":"x"})", {}, mine).Header("X-Request-Id").value_or("") ==
             "req-abc-123");
}

BOOST_AUTO_TEST_CASE(bad_requests_change_nothing_and_kill_nothing) {
  Setup s;
  HttpClient& c = s.api.client();
  const std::vector<std::string> before = s.api.AllEventsRaw();
  const std::string keys = KeysPath("acme");

  std::vector<HttpResponse> rs;
  rs.push_back(c.Post(keys, R"({"name":"x","preset":"nope"})", s.admin.token));
  rs.push_back(c.Post(keys, R"({"name":"x","preset":"full_access","zzz":1})", s.admin.token));
  rs.push_back(c.Post(keys, "{{{{", s.admin.token));
  rs.push_back(c.Post(keys, R"({"name":"x","preset":"full_access"})", "garbage"));
  rs.push_back(c.Post(keys, R"({"name":"x","preset":"full_access"})", s.auditor.token));
  rs.push_back(c.Post(keys, R"({"name":"x","preset":"full_access"})", s.api_key.token));
  rs.push_back(c.Post(KeysPath("free-ws"), R"({"name":"x","preset":"full_access"})", s.free_admin.token));
  rs.push_back(c.Post(KeyPath("acme", "key_nope") + "/revoke", "{}", s.admin.token));
  rs.push_back(c.Post(KeyPath("acme", s.api_key.id) + "/revoke", R"({"why":"x"})", s.admin.token));
  rs.push_back(c.Post(KeyPath("acme", s.api_key.id) + "/rotate", R"({"grace_seconds":-1})", s.admin.token));
  rs.push_back(c.Post("/admin/v1/workspaces", R"({"id":"acme","plan":"pro"})", s.api.operator_token()));
  rs.push_back(c.Patch("/admin/v1/workspaces/acme", R"({"plan":"platinum"})", s.api.operator_token()));
  rs.push_back(c.Post(keys, R"({"name":"x","preset":"full_access"})", s.admin.token,
                      {{"Content-Type", "text/plain"}}));
  rs.push_back(c.Post(keys, R"({"name":")" + std::string(70 * 1024, 'x') + R"(","preset":"full_access"})",
                      s.admin.token));
  rs.push_back(c.Request(bh::verb::put, keys, {{"Authorization", "Bearer " + s.admin.token}}, "{}"));
  rs.push_back(c.Post("/v1/keys/verify", R"({"token":"kl_nothing"})"));
  rs.push_back(c.Post("/v1/keys/verify", R"({"token":")" + RandomToken("kl") + R"("})"));
  for (const HttpResponse& r : rs) {
    if (r.status == 200u) continue;  // the verifies of unknown tokens
    BOOST_TEST(r.status >= 400u);
    BOOST_TEST(r.Header("Content-Type").value_or("") == kJsonContentType);
  }

  BOOST_TEST(c.Get("/healthz").status == 200u);
  BOOST_TEST(s.api.server().running());
  const std::vector<std::string> after = s.api.AllEventsRaw();
  BOOST_TEST(after == before, boost::test_tools::per_element());
  BOOST_TEST(s.api.GetKey("acme", s.admin.token, s.api_key.id).at("status").as_string() == "active");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
