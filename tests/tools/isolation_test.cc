// Workspace isolation: an admin (or auditor) of `beta` gets 403 on every route under
// /admin/v1/workspaces/acme/..., and nothing in acme changes.

#include <boost/test/unit_test.hpp>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {
namespace bh = boost::beast::http;

struct Call {
  bh::verb method;
  std::string target;
  std::string body;
};

std::vector<Call> AcmeRoutes(const std::string& key_id) {
  const std::string ws = "/admin/v1/workspaces/acme";
  const std::string key = KeyPath("acme", key_id);
  return {
      {bh::verb::get, ws, ""},
      {bh::verb::get, KeysPath("acme"), ""},
      {bh::verb::get, KeysPath("acme") + "?status=all&limit=10", ""},
      {bh::verb::get, key, ""},
      {bh::verb::post, KeysPath("acme"), R"({"name":"intruder","preset":"full_access"})"},
      {bh::verb::post, key + "/rotate", R"({"grace_seconds":0})"},
      {bh::verb::post, key + "/revoke", R"({"reason":"intruder"})"},
      {bh::verb::get, key + "/usage", ""},
      {bh::verb::get, key + "/history", ""},
      {bh::verb::get, ws + "/audit", ""},
      {bh::verb::get, ws + "/audit?type=key.used", ""},
      {bh::verb::patch, ws, R"({"plan":"free"})"},
      {bh::verb::post, ws + "/admin-keys", R"({"name":"intruder","role":"admin"})"},
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(isolation)

BOOST_AUTO_TEST_CASE(another_workspaces_admin_is_forbidden_on_every_route) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  api.CreateWorkspace("beta", "pro");
  IssuedKey acme_admin = api.CreateAdminKey("acme");
  IssuedKey beta_admin = api.CreateAdminKey("beta", "admin");
  IssuedKey beta_auditor = api.CreateAdminKey("beta", "auditor");
  IssuedKey acme_key = api.CreateApiKey("acme", acme_admin.token);
  const std::vector<std::string> before = api.AllEventsRaw();

  for (const IssuedKey* outsider : {&beta_admin, &beta_auditor}) {
    for (const Call& call : AcmeRoutes(acme_key.id)) {
      BOOST_TEST_CONTEXT(call.method << " " << call.target << " as beta " << outsider->key.at("role")) {
        HttpResponse r = api.client().Request(call.method, call.target,
                                              {{"Authorization", "Bearer " + outsider->token}}, call.body);
        ExpectJsonBody(r, 403, kForbiddenBody);
      }
    }
  }
  // A key id of another workspace is not found through one's own workspace either way.
  HttpResponse through_beta = api.client().Get(KeyPath("beta", acme_key.id), beta_admin.token);
  BOOST_TEST((through_beta.status == 404u || through_beta.status == 403u), through_beta.body);
  BOOST_TEST(through_beta.body.find(acme_key.token) == std::string::npos);

  BOOST_TEST(api.AllEventsRaw() == before, boost::test_tools::per_element());
  BOOST_TEST(api.Verify(acme_key.token).at("code").as_string() == "VALID");

  // The same routes answer acme's own admin (the GETs at least), so the 403s above are about the
  // workspace, not broken routes.
  for (const Call& call : AcmeRoutes(acme_key.id)) {
    if (call.method != bh::verb::get || call.target == "/admin/v1/workspaces/acme") continue;
    HttpResponse r = api.client().Get(call.target, acme_admin.token);
    BOOST_TEST(r.status == 200u, call.target << ": " << r.status << " " << r.body);
  }
  HttpResponse own = api.client().Get("/admin/v1/workspaces/acme", acme_admin.token);
  BOOST_TEST(own.status == 200u, "GET /workspaces/{ws} is also for its admins: " << own.body);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
