// No secret leaks: after a whole lifecycle, no token appears in any read response or anywhere in
// the server's standard error (with debug logging on); a given operator token is never printed.

#include <boost/test/unit_test.hpp>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {

BOOST_AUTO_TEST_SUITE(secrets)

BOOST_AUTO_TEST_CASE(tokens_appear_in_no_response_and_no_log_line) {
  LedgerApi api({"--verbose"});
  HttpClient& c = api.client();
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme", "admin");
  IssuedKey auditor = api.CreateAdminKey("acme", "auditor", "compliance");
  std::vector<std::string> tokens = {api.operator_token(), admin.token, auditor.token};
  std::vector<std::string> key_ids;

  IssuedKey a = api.CreateApiKey("acme", admin.token);
  IssuedKey b = api.CreateApiKey("acme", admin.token, R"({"name":"reader","abilities":["invoices:read"]})");
  HttpResponse idem = c.Post(KeysPath("acme"), R"({"name":"idem","preset":"read_only"})", admin.token,
                             {{"Idempotency-Key", "secret-test"}});
  BOOST_TEST_REQUIRE(idem.status == 201u, idem.body);
  const std::string idem_token(ParseObject(idem.body).at("token").as_string());
  const std::string idem_id(ParseObject(idem.body).at("key").as_object().at("id").as_string());
  tokens.insert(tokens.end(), {a.token, b.token, idem_token});
  key_ids.insert(key_ids.end(), {a.id, b.id, idem_id});

  // Uses of every kind, valid and rejected, including tokens sent where they do not belong.
  std::vector<HttpResponse> responses;
  responses.push_back(c.Post(KeysPath("acme"), R"({"name":"idem","preset":"read_only"})", admin.token,
                             {{"Idempotency-Key", "secret-test"}}));
  for (const std::string& t : {a.token, b.token, idem_token}) {
    responses.push_back(c.Get("/public/v1/me", t));
    responses.push_back(c.Get("/v1/authz", t, {{"X-Required-Ability", "invoices:write"}}));
    responses.push_back(c.Get("/v1/authz?ability=invoices:read", t));
    responses.push_back(c.Post("/v1/keys/verify", R"({"token":")" + t + R"(","ability":"invoices:write"})"));
    responses.push_back(c.Get(KeysPath("acme"), t));  // an API key on /admin: 401
  }
  responses.push_back(c.Get("/public/v1/me", admin.token));
  responses.push_back(c.Post("/v1/keys/verify", R"({"token":")" + admin.token + R"("})"));
  responses.push_back(c.Post("/v1/keys/verify", R"({"token":")" + api.operator_token() + R"(","x":1})"));
  std::string bad_checksum = a.token;
  bad_checksum.back() = bad_checksum.back() == 'A' ? 'B' : 'A';
  responses.push_back(c.Get("/public/v1/me", bad_checksum));
  responses.push_back(c.Get(KeysPath("acme"), bad_checksum));
  // Lifecycle changes.
  HttpResponse rotated = c.Post(KeyPath("acme", a.id) + "/rotate", R"({"grace_seconds":60})", admin.token);
  BOOST_TEST_REQUIRE(rotated.status == 201u, rotated.body);
  json::object rot = ParseObject(rotated.body);
  tokens.emplace_back(rot.at("token").as_string());
  key_ids.emplace_back(rot.at("key").as_object().at("id").as_string());
  responses.push_back(
      c.Post(KeyPath("acme", b.id) + "/revoke", R"({"reason":"rotation drill"})", admin.token));
  responses.push_back(c.Get("/public/v1/me", b.token));
  responses.push_back(c.Post("/v1/keys/verify", R"({"token":")" + b.token + R"("})"));

  // Every read there is.
  for (const std::string* reader : {&admin.token, &auditor.token}) {
    responses.push_back(c.Get(KeysPath("acme") + "?status=all", *reader));
    responses.push_back(c.Get("/admin/v1/workspaces/acme", *reader));
    responses.push_back(c.Get("/admin/v1/workspaces/acme/audit", *reader));
    responses.push_back(
        c.Get("/admin/v1/workspaces/acme/audit?order=desc&type=key.used&type=key.created"
              "&type=key.rotated&type=key.revoked&type=key.expired&type=workspace.created",
              *reader));
    for (const std::string& id : key_ids) {
      responses.push_back(c.Get(KeyPath("acme", id), *reader));
      responses.push_back(c.Get(KeyPath("acme", id) + "/history", *reader));
      responses.push_back(c.Get(KeyPath("acme", id) + "/usage?bucket=day", *reader));
    }
  }
  responses.push_back(c.Get("/admin/v1/events?limit=1000", api.operator_token()));
  responses.push_back(c.Get("/metrics"));
  responses.push_back(c.Get("/readyz"));

  for (size_t i = 0; i < responses.size(); ++i) {
    for (const std::string& t : tokens) {
      BOOST_TEST(responses[i].body.find(t) == std::string::npos,
                 "response " << i << " (" << responses[i].status << ") holds token " << t.substr(0, 12)
                             << "…: " << responses[i].body);
      for (const auto& [name, value] : responses[i].headers) {
        BOOST_TEST(value.find(t) == std::string::npos, "header " << name << " of response " << i);
      }
    }
  }
  // The raw log over HTTP, once more after everything.
  for (const std::string& e : api.AllEventsRaw()) {
    for (const std::string& t : tokens) BOOST_TEST(e.find(t) == std::string::npos, e);
  }

  c.Close();
  BOOST_TEST(api.server().Stop() == 0);
  const std::string err = api.server().AllStderr();
  BOOST_TEST(err.find("listening on") != std::string::npos);
  BOOST_TEST(err.find("debug") != std::string::npos, "--verbose should have logged requests");
  for (const std::string& t : tokens) {
    BOOST_TEST(CountOccurrences(err, t) == 0u, "stderr holds token " << t.substr(0, 12) << "…:\n" << err);
    // Nor the secret part of it alone.
    BOOST_TEST(CountOccurrences(err, t.substr(t.find('_') + 1)) == 0u);
  }
  BOOST_TEST(CountOccurrences(err, bad_checksum) == 0u);
}

// A token pasted where text goes would stay in the log for good, and one sent as a field's name
// or a query value would come back in the error: both are refused without echoing it.
BOOST_AUTO_TEST_CASE(tokens_where_text_goes_are_refused_and_never_echoed) {
  LedgerApi api;
  HttpClient& c = api.client();
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme", "admin");
  IssuedKey key = api.CreateApiKey("acme", admin.token);
  const size_t events_before = api.AllEvents().size();
  const std::string& t = key.token;

  std::vector<std::pair<HttpResponse, std::string>> refused;  // the response and its field
  for (const std::string field : {"name", "owner", "description"}) {
    const std::string name = field == "name" ? "" : R"("name":"n",)";
    refused.emplace_back(
        c.Post(KeysPath("acme"), R"({"preset":"read_only",)" + name + "\"" + field + R"(":"job )" + t + R"("})",
               admin.token),
        field);
  }
  refused.emplace_back(c.Post(KeysPath("acme"), R"({"name":"n","preset":"read_only","metadata":{"t":")" + t + R"("}})",
                              admin.token),
                       "metadata");
  refused.emplace_back(c.Post(KeyPath("acme", key.id) + "/revoke", R"({"reason":"leaked: )" + t + R"("})", admin.token),
                       "reason");
  refused.emplace_back(c.Post(KeyPath("acme", key.id) + "/rotate", R"({"name":")" + t + R"("})", admin.token), "name");
  refused.emplace_back(c.Post(KeysPath("acme"), R"({"name":"n","preset":"read_only"})", admin.token,
                              {{"X-Actor", admin.token}}),
                       "X-Actor");
  refused.emplace_back(c.Post("/admin/v1/workspaces/acme/admin-keys", R"({"name":")" + t + R"(","role":"auditor"})",
                              api.operator_token()),
                       "name");
  refused.emplace_back(c.Post(KeysPath("acme"), R"({"name":"n","preset":"read_only"})", admin.token,
                              {{"Idempotency-Key", admin.token}}),
                       "Idempotency-Key");
  for (auto& [r, field] : refused) {
    ExpectError(r, 400, "invalid_request", field);
    BOOST_TEST(r.body.find(t) == std::string::npos, r.body);
    BOOST_TEST(r.body.find(admin.token) == std::string::npos, r.body);
  }
  // Echoed nowhere: a token as an unknown field's name, or as an event type to filter on.
  HttpResponse as_name = c.Post("/v1/keys/verify", R"({")" + t + R"(":1})");
  ExpectError(as_name, 400, "invalid_request");
  HttpResponse as_type = c.Get("/admin/v1/workspaces/acme/audit?type=" + t, admin.token);
  ExpectError(as_type, 400, "invalid_request", "type");
  for (const HttpResponse* r : {&as_name, &as_type}) {
    BOOST_TEST(r->body.find(t) == std::string::npos, r->body);
    BOOST_TEST(r->body.find(t.substr(t.find('_') + 1)) == std::string::npos, r->body);
  }
  // Text that only mentions a token's display prefix is fine.
  BOOST_TEST(c.Post(KeysPath("acme"), R"({"name":"replaces )" + t.substr(0, 12) + R"(","preset":"read_only"})",
                    admin.token).status == 201u);
  BOOST_TEST(api.AllEvents().size() == events_before + 1, "only the last creation was appended");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
