#define BOOST_TEST_MODULE http_api
#include <boost/test/unit_test.hpp>

#include "http/error_mapping.h"
#include "http/router.h"

namespace keyledger::http {
namespace {
namespace bh = boost::beast::http;

Request Make(bh::verb method, std::string target, std::string body = {},
             std::string content_type = "application/json") {
  Request r{method, target, 11};
  if (!body.empty()) {
    r.set(bh::field::content_type, content_type);
    r.body() = std::move(body);
    r.prepare_payload();
  }
  return r;
}

// Dispatches synchronously and returns the response the handler (or the router) produced.
Response Dispatch(Router& router, Request request) {
  std::optional<Response> out;
  router.Handle(std::move(request), RequestContext{"127.0.0.1"}, [&](Response&& r) { out = std::move(r); });
  BOOST_REQUIRE(out.has_value());
  return std::move(*out);
}

struct RouterFixture {
  Router router;
  std::vector<std::string> seen_params;
  RouterFixture() {
    router.Add(bh::verb::get, "/admin/v1/workspaces/{ws}/keys/{id}", [this](const ExchangePtr& ex) {
      seen_params = {ex->param(0), ex->param(1)};
      ex->Reply(200, "{}");
    }, {"x"});
    router.Add(bh::verb::post, "/admin/v1/workspaces/{ws}/keys", [](const ExchangePtr& ex) {
      ex->Reply(201, std::string(ex->body()));
    });
    router.Add(bh::verb::get, "/admin/v1/workspaces/{ws}/keys", [](const ExchangePtr& ex) { ex->Reply(200, "[]"); },
               {"limit", "status", "type"});
    router.Add(bh::verb::get, "/public/me", [](const ExchangePtr& ex) { ex->Reply(200, "{}"); });
    router.AddForwardAuth("/authz", [](const ExchangePtr& ex) { ex->ReplyNoContent(); });
    router.Add(bh::verb::get, "/boom", [](const ExchangePtr&) -> void { throw std::runtime_error("secret detail"); });
  }
};

// A well-formed API token (the API.md test vector).
const std::string kToken = "kl_0123456789ABCDEFGHIJKLMNOPQRSTUV0dYxzJ";

// A GET of `target` (whose query names hold kToken) is refused with 400, and the token is not
// echoed in the error.
void ExpectRefusedWithoutToken(Router& router, const std::string& target) {
  Response secret = Dispatch(router, Make(bh::verb::get, target));
  BOOST_TEST(secret.result_int() == 400);
  BOOST_TEST(secret.body().find(kToken) == std::string::npos, secret.body());
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(RouterTest, RouterFixture)

BOOST_AUTO_TEST_CASE(path_parameters_are_handed_over_in_order) {
  Response r = Dispatch(router, Make(bh::verb::get, "/admin/v1/workspaces/acme/keys/key_1?x=1"));
  BOOST_TEST(r.result_int() == 200);
  BOOST_TEST(seen_params == (std::vector<std::string>{"acme", "key_1"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unknown_path_is_404_with_error_body) {
  Response r = Dispatch(router, Make(bh::verb::get, "/admin/v1/nothing"));
  BOOST_TEST(r.result_int() == 404);
  BOOST_TEST(r.body() == R"({"error":"No such endpoint.","code":"not_found"})");
  BOOST_TEST(std::string(r[bh::field::content_type]) == "application/json; charset=utf-8");
}

BOOST_AUTO_TEST_CASE(empty_segment_does_not_match_a_parameter) {
  Response r = Dispatch(router, Make(bh::verb::get, "/admin/v1/workspaces//keys/key_1"));
  BOOST_TEST(r.result_int() == 404);
}

BOOST_AUTO_TEST_CASE(known_path_with_other_method_is_405_with_allow) {
  Response r = Dispatch(router, Make(bh::verb::delete_, "/admin/v1/workspaces/acme/keys"));
  BOOST_TEST(r.result_int() == 405);
  BOOST_TEST(std::string(r[bh::field::allow]) == "POST, GET, HEAD");
  BOOST_TEST(r.body().find("\"code\":\"method_not_allowed\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(head_is_answered_by_the_get_route) {
  Response r = Dispatch(router, Make(bh::verb::head, "/admin/v1/workspaces/acme/keys/key_1"));
  BOOST_TEST(r.result_int() == 200);
  BOOST_TEST(seen_params == (std::vector<std::string>{"acme", "key_1"}), boost::test_tools::per_element());
  BOOST_TEST(Dispatch(router, Make(bh::verb::head, "/admin/v1/workspaces/acme/keys")).result_int() == 200);
}

BOOST_AUTO_TEST_CASE(non_json_body_is_415) {
  Response r = Dispatch(router, Make(bh::verb::post, "/admin/v1/workspaces/acme/keys", "name=x", "text/plain"));
  BOOST_TEST(r.result_int() == 415);
  BOOST_TEST(r.body().find("unsupported_media_type") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_with_charset_is_accepted) {
  Response r = Dispatch(router, Make(bh::verb::post, "/admin/v1/workspaces/acme/keys", "{}",
                                     "Application/JSON; charset=utf-8"));
  BOOST_TEST(r.result_int() == 201);
}

BOOST_AUTO_TEST_CASE(json_lookalike_content_type_is_refused) {
  Response r = Dispatch(router, Make(bh::verb::post, "/admin/v1/workspaces/acme/keys", "{}",
                                     "application/jsonp"));
  BOOST_TEST(r.result_int() == 415);
}

BOOST_AUTO_TEST_CASE(a_query_parameter_given_twice_is_400_but_type) {
  Response r = Dispatch(router, Make(bh::verb::get, "/admin/v1/workspaces/acme/keys?limit=10&status=all&limit=1000"));
  BOOST_TEST(r.result_int() == 400);
  BOOST_TEST(r.body().find("\"field\":\"limit\"") != std::string::npos, r.body());
  BOOST_TEST(Dispatch(router, Make(bh::verb::get, "/admin/v1/workspaces/acme/keys?type=a&type=b")).result_int() == 200);
  // Below a forward-auth path the query is the guarded request's own.
  BOOST_TEST(Dispatch(router, Make(bh::verb::get, "/authz/api?page=1&page=2")).result_int() == 204);
  // A repeated name that holds a token is not echoed.
  ExpectRefusedWithoutToken(router, "/admin/v1/workspaces/acme/keys?" + kToken + "=1&" + kToken + "=2");
}

BOOST_AUTO_TEST_CASE(an_unknown_query_parameter_is_400_below_admin_only) {
  Response r = Dispatch(router, Make(bh::verb::get, "/admin/v1/workspaces/acme/keys?limit=10&stauts=all"));
  BOOST_TEST(r.result_int() == 400);
  BOOST_TEST(r.body().find("\"field\":\"stauts\"") != std::string::npos, r.body());
  BOOST_TEST(Dispatch(router, Make(bh::verb::get, "/admin/v1/workspaces/acme/keys?status=all&limit=1")).result_int() == 200);
  BOOST_TEST(Dispatch(router, Make(bh::verb::get, "/public/me?cache=1")).result_int() == 200);
  BOOST_TEST(Dispatch(router, Make(bh::verb::get, "/authz/api?anything=1")).result_int() == 204);
  // An unknown name that holds a token is not echoed.
  ExpectRefusedWithoutToken(router, "/admin/v1/workspaces/acme/keys?" + kToken + "=1");
}

BOOST_AUTO_TEST_CASE(throwing_handler_is_500_without_detail) {
  Response r = Dispatch(router, Make(bh::verb::get, "/boom"));
  BOOST_TEST(r.result_int() == 500);
  BOOST_TEST(r.body().find("secret detail") == std::string::npos);
  BOOST_TEST(r.body() == R"({"error":"Internal error.","code":"internal"})");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ErrorMappingTest)

BOOST_AUTO_TEST_CASE(every_status_code_maps_as_api_md_says) {
  BOOST_TEST(MapStatus(StatusCode::kInvalidArgument).status == 400u);
  BOOST_TEST(MapStatus(StatusCode::kUnauthorized).status == 401u);
  BOOST_TEST(MapStatus(StatusCode::kUpgradeRequired).status == 402u);
  BOOST_TEST(MapStatus(StatusCode::kForbidden).status == 403u);
  BOOST_TEST(MapStatus(StatusCode::kNotFound).status == 404u);
  BOOST_TEST(MapStatus(StatusCode::kConflict).status == 409u);
  BOOST_TEST(MapStatus(StatusCode::kUnavailable).status == 503u);
  BOOST_TEST(std::string(MapStatus(StatusCode::kUnavailable).code) == "not_ready");
  BOOST_TEST(std::string(MapStatus(StatusCode::kUpgradeRequired).code) == "upgrade_required");
}

BOOST_AUTO_TEST_CASE(public_auth_bodies_are_kept_exactly) {
  BOOST_TEST(ErrorBody(Status::Unauthorized()) == R"({"error":"Unauthorized.","code":"unauthorized"})");
  BOOST_TEST(ErrorBody(Status::Forbidden()) == R"({"error":"Forbidden.","code":"forbidden"})");
  BOOST_TEST(ErrorBody(Status::UpgradeRequired()) ==
             R"({"error":"Upgrade required.","code":"upgrade_required"})");
}

BOOST_AUTO_TEST_CASE(field_is_named_when_one_is_at_fault) {
  BOOST_TEST(ErrorBody(Status::Invalid("name is required.", "name")) ==
             R"({"error":"name is required.","code":"invalid_request","field":"name"})");
}

BOOST_AUTO_TEST_CASE(internal_detail_never_reaches_the_client) {
  BOOST_TEST(ErrorBody(Status::Internal("rocksdb: IO error /var/lib/x")) ==
             R"({"error":"Internal error.","code":"internal"})");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger::http
