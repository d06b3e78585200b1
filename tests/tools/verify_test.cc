// POST /v1/keys/verify: always 200 for a well-formed request, the right CODE for each case, 400
// only for a malformed body; unknown tokens append nothing to the log.

#include <boost/test/unit_test.hpp>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {

std::string Code(const json::object& o) { return std::string(o.at("code").as_string()); }

void ExpectNotFound(const json::object& o) {
  BOOST_TEST(!o.at("valid").as_bool());
  BOOST_TEST(Code(o) == "NOT_FOUND");
  BOOST_TEST(o.at("key").is_null());
  BOOST_TEST(o.at("workspace").is_null());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(verify)

BOOST_AUTO_TEST_CASE(codes_for_every_kind_of_token) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey reader = api.CreateApiKey("acme", admin.token, R"({"name":"reporting","preset":"read_only"})");
  const size_t events_before = api.AllEvents().size();

  // Unknown and malformed tokens: NOT_FOUND, and nothing is appended.
  ExpectNotFound(api.Verify(RandomToken("kl")));
  ExpectNotFound(api.Verify("garbage"));
  ExpectNotFound(api.Verify(""));
  std::string bad_checksum = reader.token;
  bad_checksum.back() = bad_checksum.back() == 'A' ? 'B' : 'A';
  ExpectNotFound(api.Verify(bad_checksum));
  std::string bad_random = reader.token;
  bad_random[5] = bad_random[5] == 'A' ? 'B' : 'A';
  ExpectNotFound(api.Verify(bad_random));
  // Admin and operator keys are never valid here.
  ExpectNotFound(api.Verify(admin.token));
  ExpectNotFound(api.Verify(api.operator_token()));
  BOOST_TEST(api.AllEvents().size() == events_before, "unknown tokens must append nothing");

  // read_only: *:read allows any read; write is not implied.
  json::object read = api.Verify(reader.token, "invoices:read");
  BOOST_TEST(read.at("valid").as_bool());
  BOOST_TEST(Code(read) == "VALID");
  json::object write = api.Verify(reader.token, "invoices:write");
  BOOST_TEST(!write.at("valid").as_bool());
  BOOST_TEST(Code(write) == "FORBIDDEN");
  BOOST_TEST(write.at("key").as_object().at("id").as_string() == reader.id);
  BOOST_TEST(write.at("workspace").as_string() == "acme");
  BOOST_TEST(api.AllEvents().size() == events_before + 2, "each decision on a known key is one key.used");
}

BOOST_AUTO_TEST_CASE(malformed_bodies_are_400) {
  LedgerApi api;
  HttpClient& c = api.client();
  ExpectError(c.Post("/v1/keys/verify", R"({"ability":"invoices:read"})"), 400, "invalid_request", "token");
  ExpectError(c.Post("/v1/keys/verify", R"({"token":42})"), 400, "invalid_request", "token");
  ExpectError(c.Post("/v1/keys/verify", R"({"token":"kl_x","ability":"invoices"})"), 400, "invalid_request",
              "ability");
  ExpectError(c.Post("/v1/keys/verify", R"({"token":"kl_x","extra":1})"), 400, "invalid_request", "extra");
  ExpectError(c.Post("/v1/keys/verify", R"({"token":)"), 400, "invalid_request");
  ExpectError(c.Post("/v1/keys/verify", R"(["token"])"), 400, "invalid_request");
  ExpectError(c.Request(boost::beast::http::verb::post, "/v1/keys/verify"), 400, "invalid_request");
}

BOOST_AUTO_TEST_CASE(credentials_of_other_kinds_are_refused_on_me_and_authz) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  HttpClient& c = api.client();
  ExpectJsonBody(c.Get("/public/v1/me", admin.token), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get("/public/v1/me", api.operator_token()), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get("/v1/authz", admin.token), 401, kUnauthorizedBody);
  ExpectJsonBody(c.Get("/v1/authz", api.operator_token()), 401, kUnauthorizedBody);
}

// nginx's auth_request and Envoy's ext_authz ask with the method of the request they guard, and
// Envoy appends that request's path (and query) to the one it is given.
BOOST_AUTO_TEST_CASE(authz_answers_every_method_and_the_paths_below_it) {
  namespace bh = boost::beast::http;
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey reader = api.CreateApiKey("acme", admin.token, R"({"name":"reporting","preset":"read_only"})");
  HttpClient& c = api.client();
  const size_t events_before = api.AllEvents().size();
  const Headers reads = {{"Authorization", "Bearer " + reader.token}, {"X-Required-Ability", "invoices:read"}};
  Headers reads_form = reads;
  reads_form.emplace("Content-Type", "application/x-www-form-urlencoded");  // the guarded request's body

  for (bh::verb method : {bh::verb::post, bh::verb::put, bh::verb::patch, bh::verb::delete_, bh::verb::options}) {
    HttpResponse r = c.Request(method, "/v1/authz", reads_form, "amount=10");
    BOOST_TEST(r.status == 204u, bh::to_string(method) << ": " << r.body);
    BOOST_TEST(r.Header("X-Key-Id").value_or("") == reader.id);
  }
  HttpResponse head = c.Request(bh::verb::head, "/v1/authz", reads);
  BOOST_TEST(head.status == 204u);
  BOOST_TEST(head.Header("X-Key-Workspace").value_or("") == "acme");

  HttpResponse below = c.Request(bh::verb::post, "/v1/authz/api/invoices/7?expand=lines", reads_form, "amount=10");
  BOOST_TEST(below.status == 204u, below.body);
  BOOST_TEST(below.Header("X-Key-Name").value_or("") == "reporting");
  Headers writes = reads;
  writes.find("X-Required-Ability")->second = "invoices:write";
  ExpectJsonBody(c.Request(bh::verb::get, "/v1/authz/api/invoices", writes), 403, kForbiddenBody);
  ExpectJsonBody(c.Get("/v1/authz/api/invoices", RandomToken("kl")), 401, kUnauthorizedBody);
  // Below /v1/authz the query is the guarded request's, which its client wrote: it never names
  // the ability. On /v1/authz itself it does.
  BOOST_TEST(c.Get("/v1/authz/api/invoices?ability=invoices:write", reader.token).status == 204u);
  ExpectJsonBody(c.Get("/v1/authz?ability=invoices:write", reader.token), 403, kForbiddenBody);
  // Each decision on the key is one key.used (the unknown token's is none).
  BOOST_TEST(api.AllEvents().size() == events_before + 10);

  // A path that only starts like it is not it.
  ExpectError(c.Get("/v1/authzz", reader.token), 404, "not_found");
  ExpectError(c.Get("/v1/auth", reader.token), 404, "not_found");
}

// Traefik's ForwardAuth forwards the client's headers: an X-Required-Ability the client added must
// not replace the ability the operator wrote into the address. Two credentials are none.
BOOST_AUTO_TEST_CASE(authz_refuses_a_required_ability_named_twice_differently) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey reader = api.CreateApiKey("acme", admin.token, R"({"name":"reporting","preset":"read_only"})");
  IssuedKey other = api.CreateApiKey("acme", admin.token, R"({"name":"other","preset":"full_access"})");
  HttpClient& c = api.client();
  const size_t events_before = api.AllEvents().size();

  ExpectError(c.Get("/v1/authz?ability=invoices:write", reader.token, {{"X-Required-Ability", "invoices:read"}}),
              400, "invalid_request", "ability");
  ExpectError(c.Get("/v1/authz?ability=invoices:write&ability=invoices:read", reader.token), 400,
              "invalid_request", "ability");
  ExpectError(c.Get("/v1/authz", reader.token,
                    {{"X-Required-Ability", "invoices:write"}, {"X-Required-Ability", "invoices:read"}}),
              400, "invalid_request", "ability");
  ExpectJsonBody(c.Get("/v1/authz", {}, {{"Authorization", "Bearer " + other.token},
                                         {"Authorization", "Bearer " + reader.token}}),
                 401, kUnauthorizedBody);
  BOOST_TEST(api.AllEvents().size() == events_before, "refused requests decide nothing");

  // Named twice the same way, it is one requirement; an empty header names none.
  ExpectJsonBody(c.Get("/v1/authz?ability=invoices:write", reader.token, {{"X-Required-Ability", "invoices:write"}}),
                 403, kForbiddenBody);
  BOOST_TEST(c.Get("/v1/authz?ability=invoices:read", reader.token, {{"X-Required-Ability", ""}}).status == 204u);
  BOOST_TEST(api.AllEvents().size() == events_before + 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
