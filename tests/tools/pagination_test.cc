// Paginated lists: following next_cursor (and next_after) visits every item exactly once.

#include <boost/test/unit_test.hpp>
#include <set>

#include "tests/support/ledger_api.h"

namespace keyledger::testing {

BOOST_AUTO_TEST_SUITE(pagination)

BOOST_AUTO_TEST_CASE(list_keys_in_pages_of_two) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) {
    created.insert(api.CreateApiKey("acme", admin.token,
                                    R"({"name":"key-)" + std::to_string(i) + R"(","preset":"read_only"})")
                       .id);
  }
  // A key in another workspace must not show up.
  api.CreateWorkspace("beta", "pro");
  IssuedKey beta_admin = api.CreateAdminKey("beta");
  api.CreateApiKey("beta", beta_admin.token);

  std::vector<std::string> seen;
  std::vector<size_t> page_sizes;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    std::string target = KeysPath("acme") + "?limit=2";
    if (!cursor.empty()) target += "&cursor=" + cursor;
    HttpResponse r = api.client().Get(target, admin.token);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    json::object o = ParseObject(r.body);
    const json::array& keys = o.at("keys").as_array();
    page_sizes.push_back(keys.size());
    for (const json::value& k : keys) seen.emplace_back(k.as_object().at("id").as_string());
    BOOST_TEST_REQUIRE(o.contains("next_cursor"));
    if (o.at("next_cursor").is_null()) break;
    BOOST_TEST_REQUIRE(o.at("next_cursor").is_string(), r.body);
    cursor = std::string(o.at("next_cursor").as_string());
  }
  BOOST_TEST(page_sizes == (std::vector<size_t>{2, 2, 1}), boost::test_tools::per_element());
  BOOST_TEST(seen.size() == 5u);
  BOOST_TEST((std::set<std::string>(seen.begin(), seen.end()) == created));

  // A garbage cursor is a 400, not a crash.
  ExpectError(api.client().Get(KeysPath("acme") + "?limit=2&cursor=%ZZnot-a-cursor", admin.token), 400,
              "invalid_request", "cursor");
}

BOOST_AUTO_TEST_CASE(event_stream_walks_the_whole_log) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  for (int i = 0; i < 4; ++i) {
    IssuedKey k = api.CreateApiKey("acme", admin.token);
    api.Verify(k.token);
  }
  const std::vector<json::object> all = api.AllEvents(1000);
  // 1 operator key, 1 workspace, 1 admin key, 4 × (key.created + key.used).
  BOOST_TEST_REQUIRE(all.size() == 11u);

  for (size_t limit : {1u, 2u, 3u, 10u}) {
    BOOST_TEST_CONTEXT("limit=" << limit) {
      std::vector<int64_t> seqs;
      int64_t after = 0;
      for (int guard = 0; guard < 100; ++guard) {
        HttpResponse r = api.client().Get(
            "/admin/v1/events?after=" + std::to_string(after) + "&limit=" + std::to_string(limit),
            api.operator_token());
        BOOST_TEST_REQUIRE(r.status == 200u, r.body);
        json::object o = ParseObject(r.body);
        const json::array& events = o.at("events").as_array();
        BOOST_TEST(events.size() <= limit);
        if (events.empty()) break;
        for (const json::value& e : events) seqs.push_back(e.as_object().at("seq").to_number<int64_t>());
        BOOST_TEST_REQUIRE(o.at("next_after").is_int64(), r.body);
        BOOST_TEST(o.at("next_after").as_int64() == seqs.back());
        after = o.at("next_after").as_int64();
      }
      std::vector<int64_t> expected(all.size());
      for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int64_t>(i) + 1;
      BOOST_TEST(seqs == expected, boost::test_tools::per_element());
    }
  }
  // At the end of the log the stream stays where it is, so a consumer can keep polling.
  HttpResponse end =
      api.client().Get("/admin/v1/events?after=" + std::to_string(all.size()), api.operator_token());
  BOOST_TEST_REQUIRE(end.status == 200u, end.body);
  json::object tail = ParseObject(end.body);
  BOOST_TEST(tail.at("events").as_array().empty());
  BOOST_TEST(tail.at("next_after").to_number<int64_t>() == static_cast<int64_t>(all.size()));
  ExpectError(api.client().Get("/admin/v1/events?after=abc", api.operator_token()), 400, "invalid_request",
              "after");
}

BOOST_AUTO_TEST_CASE(audit_timeline_in_pages) {
  LedgerApi api;
  api.CreateWorkspace("acme", "pro");
  IssuedKey admin = api.CreateAdminKey("acme");
  for (int i = 0; i < 3; ++i) api.Verify(api.CreateApiKey("acme", admin.token).token);
  // Without type, key.used is left out: workspace.created, admin key.created, 3 key.created.
  std::vector<std::string> types;
  std::string cursor;
  for (int guard = 0; guard < 20; ++guard) {
    std::string target = "/admin/v1/workspaces/acme/audit?limit=2";
    if (!cursor.empty()) target += "&cursor=" + cursor;
    HttpResponse r = api.client().Get(target, admin.token);
    BOOST_TEST_REQUIRE(r.status == 200u, r.body);
    json::object o = ParseObject(r.body);
    for (const json::value& e : o.at("events").as_array())
      types.emplace_back(e.as_object().at("type").as_string());
    if (o.at("next_cursor").is_null()) break;
    cursor = std::string(o.at("next_cursor").as_string());
  }
  BOOST_TEST(types.size() == 5u);
  BOOST_TEST(std::count(types.begin(), types.end(), "key.used") == 0);
  HttpResponse used = api.client().Get("/admin/v1/workspaces/acme/audit?type=key.used", admin.token);
  BOOST_TEST_REQUIRE(used.status == 200u);
  BOOST_TEST(ParseObject(used.body).at("events").as_array().size() == 3u, used.body);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::testing
