// The remaining read endpoints of API.md: point-in-time key lists (as_of), the review, the signed
// checkpoint, and the service endpoints.

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "core/latency_histogram.h"
#include "core/time_format.h"
#include "tests/support/ledger_api.h"

namespace keyledger::testing {
namespace {

// Waits (bounded) until the wall clock is past `t`, so that the next event is strictly later.
void WaitPast(const std::string& t) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (Rfc3339FromNow(0) <= t && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::set<std::string> Ids(const json::array& keys) {
  std::set<std::string> ids;
  for (const json::value& k : keys) ids.emplace(k.as_object().at("id").as_string());
  return ids;
}

// The value of `series` in a /metrics body, or -1 when it is absent.
int64_t MetricValue(const std::string& body, const std::string& series) {
  const size_t at = body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(body.substr(at + series.size() + 2));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ledger_reads)

BOOST_AUTO_TEST_CASE(list_keys_as_of_answers_from_the_past) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  const std::string before_any = Rfc3339FromNow(0);
  WaitPast(before_any);
  IssuedKey key = api.CreateApiKey("acme", admin.token);
  const std::string created_at(key.key.at("created_at").as_string());
  WaitPast(created_at);
  HttpResponse revoked = api.client().Post(KeyPath("acme", key.id) + "/revoke", "{}", admin.token);
  BOOST_TEST_REQUIRE(revoked.status == 200u, revoked.body);

  // Now: not active.
  HttpResponse now = api.client().Get(KeysPath("acme"), admin.token);
  BOOST_TEST_REQUIRE(now.status == 200u, now.body);
  BOOST_TEST(Ids(ParseObject(now.body).at("keys").as_array()).count(key.id) == 0u);

  // As of its creation: active.
  HttpResponse then = api.client().Get(KeysPath("acme") + "?status=active&as_of=" + created_at, admin.token);
  BOOST_TEST_REQUIRE(then.status == 200u,
                     "GET keys?as_of=" << created_at << ": " << then.status << " " << then.body);
  json::object page = ParseObject(then.body);
  const json::array& keys = page.at("keys").as_array();
  BOOST_TEST_REQUIRE(keys.size() == 1u, then.body);
  BOOST_TEST(keys[0].as_object().at("id").as_string() == key.id);
  BOOST_TEST(keys[0].as_object().at("status").as_string() == "active");
  BOOST_TEST(page.at("next_cursor").is_null());

  // As of before it existed: nothing.
  HttpResponse earlier = api.client().Get(KeysPath("acme") + "?status=all&as_of=" + before_any, admin.token);
  BOOST_TEST_REQUIRE(earlier.status == 200u, earlier.body);
  BOOST_TEST(ParseObject(earlier.body).at("keys").as_array().empty(), earlier.body);
}

BOOST_AUTO_TEST_CASE(review_reports_findings_on_active_keys) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  IssuedKey auditor = api.CreateAdminKey("acme", "auditor");
  IssuedKey vague = api.CreateApiKey("acme", admin.token, R"({"name":"test","preset":"full_access"})");
  IssuedKey tidy = api.CreateApiKey(
      "acme", admin.token, R"({"name":"invoice exporter","abilities":["invoices:read"],"owner":"finance"})");
  api.Verify(tidy.token, "invoices:read");

  for (const std::string* reader : {&admin.token, &auditor.token}) {
    HttpResponse r = api.client().Get("/admin/v1/workspaces/acme/review", *reader);
    BOOST_TEST_REQUIRE(r.status == 200u, "GET review: " << r.status << " " << r.body);
    json::object o = ParseObject(r.body);
    BOOST_TEST(o.at("generated_at").is_string());
    std::set<std::pair<std::string, std::string>> findings;
    for (const json::value& f : o.at("findings").as_array()) {
      findings.emplace(f.as_object().at("key_id").as_string(), f.as_object().at("rule").as_string());
      BOOST_TEST(f.as_object().contains("detail"));
    }
    for (const char* rule : {"vague_name", "no_owner", "full_access"}) {
      BOOST_TEST(findings.count({vague.id, rule}) == 1u, "rule " << rule << " for the vague key: " << r.body);
    }
    // never_used leaves a new key 7 days to be put to use (projections/review.h); both are new.
    BOOST_TEST(findings.count({vague.id, "never_used"}) == 0u, r.body);
    for (const char* rule : {"vague_name", "no_owner", "full_access", "never_used"}) {
      BOOST_TEST(findings.count({tidy.id, rule}) == 0u, "rule " << rule << " for the tidy key: " << r.body);
    }
  }
  api.CreateWorkspace("beta", "pro");
  IssuedKey beta_admin = api.CreateAdminKey("beta");
  ExpectJsonBody(api.client().Get("/admin/v1/workspaces/acme/review", beta_admin.token), 403, kForbiddenBody);
}

BOOST_AUTO_TEST_CASE(checkpoint_signs_the_chain_head) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  HttpResponse r = api.client().Get("/admin/v1/checkpoint", api.operator_token());
  BOOST_TEST_REQUIRE(r.status == 200u, "GET /admin/v1/checkpoint: " << r.status << " " << r.body);
  json::object cp = ParseObject(r.body);
  for (const char* field : {"seq", "hash", "ts", "signature", "public_key"}) {
    BOOST_TEST(cp.contains(field), field << " in " << r.body);
  }
  const std::vector<json::object> events = api.AllEvents();
  const int64_t seq = cp.at("seq").to_number<int64_t>();
  BOOST_TEST_REQUIRE(seq == static_cast<int64_t>(events.size()), "the head, not an older checkpoint: " << r.body);
  BOOST_TEST(cp.at("hash").as_string() == events[static_cast<size_t>(seq - 1)].at("hash").as_string());
  BOOST_TEST(!cp.at("signature").as_string().empty());
  BOOST_TEST(!cp.at("public_key").as_string().empty());
  ExpectJsonBody(api.client().Get("/admin/v1/checkpoint", admin.token), 403, kForbiddenBody);

  // After a restart the head is the one signed on the way out: the same answer, at once.
  api.Restart();
  HttpResponse again = api.client().Get("/admin/v1/checkpoint", api.operator_token());
  BOOST_TEST_REQUIRE(again.status == 200u, again.body);
  BOOST_TEST(ParseObject(again.body).at("seq").to_number<int64_t>() == seq);
}

BOOST_AUTO_TEST_CASE(service_endpoints) {
  LedgerApi api;
  HttpResponse health = api.client().Get("/healthz");
  BOOST_TEST(health.status == 200u);
  HttpResponse ready = api.client().Get("/readyz");
  BOOST_TEST(ready.status == 200u, ready.body);
  HttpResponse metrics = api.client().Get("/metrics");
  BOOST_TEST(metrics.status == 200u);
  BOOST_TEST(metrics.Header("Content-Type").value_or("").rfind("text/plain", 0) == 0u);
  BOOST_TEST(metrics.body.find("# TYPE ") != std::string::npos, metrics.body);
  // HEAD, as some load balancers check health: the GET's status and headers, no content, and the
  // connection still usable.
  HttpResponse head = api.client().Request(boost::beast::http::verb::head, "/healthz");
  BOOST_TEST(head.status == 200u);
  BOOST_TEST(head.body.empty());
  BOOST_TEST(head.Header("Content-Length").value_or("") == std::to_string(health.body.size()));
  BOOST_TEST(api.client().Get("/readyz").status == 200u);
  BOOST_TEST(api.client().connections_opened() == 1);
}

// A creation is answered only once an fsync covers it: made one after another, each needs one
// of its own (whichever thread runs it).
BOOST_AUTO_TEST_CASE(every_creation_is_answered_after_an_fsync_of_its_own) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  const IssuedKey admin = api.CreateAdminKey("acme");
  const std::string series = "keyledger_wal_fsyncs_total";
  const int64_t before = MetricValue(api.client().Get("/metrics").body, series);
  BOOST_TEST_REQUIRE(before >= 1);  // the workspace and the admin key were fsynced too
  constexpr int kCreations = 5;
  for (int i = 0; i < kCreations; ++i) api.CreateApiKey("acme", admin.token);
  BOOST_TEST(MetricValue(api.client().Get("/metrics").body, series) >= before + kCreations);
}

// Every response written is timed: three more requests, three more in the histogram's count and
// its +Inf bucket, and its buckets never decrease.
BOOST_AUTO_TEST_CASE(metrics_time_every_request) {
  LedgerApi api;
  const std::string name = "keyledger_http_request_duration_seconds";
  const HttpResponse before = api.client().Get("/metrics");
  BOOST_TEST(before.body.find("# TYPE " + name + " histogram\n") != std::string::npos, before.body);
  const int64_t count_before = MetricValue(before.body, name + "_count");
  BOOST_TEST_REQUIRE(count_before >= 0, before.body);
  api.client().Get("/healthz");
  api.client().Get("/readyz");
  api.client().Get("/no/such/route");
  const HttpResponse after = api.client().Get("/metrics");
  // The first /metrics was answered (and timed) after its body was made: it counts here too.
  BOOST_TEST(MetricValue(after.body, name + "_count") == count_before + 4, after.body);
  BOOST_TEST(MetricValue(after.body, name + "_bucket{le=\"+Inf\"}") == count_before + 4, after.body);
  int64_t previous = 0;
  for (uint32_t bound_us : LatencyHistogram::kBoundsUs) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", bound_us / 1e6);
    const int64_t n = MetricValue(after.body, name + "_bucket{le=\"" + le + "\"}");
    BOOST_TEST(n >= previous, le << " in " << after.body);
    previous = n;
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
