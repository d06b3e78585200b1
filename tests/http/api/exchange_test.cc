#include <boost/test/unit_test.hpp>

#include "http/exchange.h"

namespace keyledger::http {
namespace {
namespace bh = boost::beast::http;

ExchangePtr Make(std::string target, std::string authorization = {}) {
  Request r{bh::verb::get, target, 11};
  if (!authorization.empty()) r.set(bh::field::authorization, authorization);
  return std::make_shared<Exchange>(std::move(r), RequestContext{"::1"}, [](Response&&) {});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ExchangeTest)

BOOST_AUTO_TEST_CASE(query_parameters_are_percent_decoded_and_may_repeat) {
  auto ex = Make("/a?type=key.created&type=key%2Eused&actor=alice%40acme&q=a+b&empty=");
  BOOST_TEST(ex->path() == "/a");
  BOOST_TEST(ex->QueryAll("type") == (std::vector<std::string>{"key.created", "key.used"}),
             boost::test_tools::per_element());
  BOOST_TEST(*ex->Query("actor") == "alice@acme");
  BOOST_TEST(*ex->Query("q") == "a b");
  BOOST_TEST(ex->Query("empty")->empty());
  BOOST_TEST(!ex->Query("missing").has_value());
}

BOOST_AUTO_TEST_CASE(absolute_form_targets_are_served_by_their_path) {
  auto ex = Make("http://127.0.0.1:8080/v1/authz?ability=invoices:read");
  BOOST_TEST(ex->path() == "/v1/authz");
  BOOST_TEST(*ex->Query("ability") == "invoices:read");
  BOOST_TEST(Make("HTTPS://keys.example/public/v1/me")->path() == "/public/v1/me");
  BOOST_TEST(Make("http://host")->path().empty());
  BOOST_TEST(Make("/http://not-absolute")->path() == "/http://not-absolute");
}

BOOST_AUTO_TEST_CASE(truncated_percent_escape_is_kept_literally) {
  auto ex = Make("/a?x=50%2&y=%zz");
  BOOST_TEST(*ex->Query("x") == "50%2");
  BOOST_TEST(*ex->Query("y") == "%zz");
}

BOOST_AUTO_TEST_CASE(bearer_token_is_read_case_insensitively_and_trimmed) {
  BOOST_TEST(Make("/", "Bearer kl_abc")->BearerToken() == "kl_abc");
  BOOST_TEST(Make("/", "bearer   kl_abc  ")->BearerToken() == "kl_abc");
  BOOST_TEST(Make("/", "Basic a2w6eA==")->BearerToken().empty());
  BOOST_TEST(Make("/", "Bearer")->BearerToken().empty());
  BOOST_TEST(Make("/")->BearerToken().empty());
}

BOOST_AUTO_TEST_CASE(limit_parameter_bounds) {
  BOOST_TEST(*LimitParam(*Make("/a")) == 50u);
  BOOST_TEST(*LimitParam(*Make("/a?limit=1")) == 1u);
  BOOST_TEST(*LimitParam(*Make("/a?limit=1000")) == 1000u);
  for (const char* bad : {"/a?limit=0", "/a?limit=1001", "/a?limit=-1", "/a?limit=5x", "/a?limit="}) {
    auto limit = LimitParam(*Make(bad));
    BOOST_TEST(!limit.ok(), bad);
    BOOST_TEST(limit.status().field() == "limit");
  }
}

BOOST_AUTO_TEST_CASE(time_parameter_is_rfc3339) {
  auto t = TimeParam(*Make("/a?from=2026-11-23T10:00:00.000Z"), "from");
  BOOST_REQUIRE(t.ok());
  BOOST_TEST(t->value() == 1795428000000);
  auto bad = TimeParam(*Make("/a?from=yesterday"), "from");
  BOOST_TEST(!bad.ok());
  BOOST_TEST(bad.status().field() == "from");
}

BOOST_AUTO_TEST_CASE(reply_happens_once) {
  int calls = 0;
  Request r{bh::verb::get, "/", 11};
  auto ex = std::make_shared<Exchange>(std::move(r), RequestContext{}, [&](Response&&) { ++calls; });
  ex->Reply(200, "{}");
  ex->Fail(Status::Forbidden());
  BOOST_TEST(calls == 1);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::http
