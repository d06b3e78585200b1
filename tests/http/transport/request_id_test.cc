#include "http/request_id.h"

#include <boost/test/unit_test.hpp>
#include <set>
#include <string>

#include "http/transport_error.h"

namespace keyledger::http {
namespace {

namespace bhttp = boost::beast::http;

BOOST_AUTO_TEST_SUITE(request_id)

BOOST_AUTO_TEST_CASE(accepts_visible_ascii_up_to_128_chars) {
  BOOST_TEST(IsAcceptableRequestId("a"));
  BOOST_TEST(IsAcceptableRequestId("req-42_abc.DEF:7/9"));
  BOOST_TEST(IsAcceptableRequestId(std::string(128, 'x')));
}

BOOST_AUTO_TEST_CASE(rejects_empty_long_spaces_and_controls) {
  BOOST_TEST(!IsAcceptableRequestId(""));
  BOOST_TEST(!IsAcceptableRequestId(std::string(129, 'x')));
  BOOST_TEST(!IsAcceptableRequestId("has space"));
  BOOST_TEST(!IsAcceptableRequestId("tab\there"));
  BOOST_TEST(!IsAcceptableRequestId(std::string("nul\0x", 5)));
  BOOST_TEST(!IsAcceptableRequestId("del\x7f"));
  BOOST_TEST(!IsAcceptableRequestId("caf\xc3\xa9"));
}

BOOST_AUTO_TEST_CASE(generated_ids_are_16_hex_and_distinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = GenerateRequestId();
    BOOST_REQUIRE_EQUAL(id.size(), 16u);
    BOOST_REQUIRE(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    BOOST_REQUIRE(IsAcceptableRequestId(id));
    seen.insert(id);
  }
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(transport_errors_are_json_with_status_and_code) {
  const Response response = MakeTransportError(TransportError::kBodyTooLarge);
  BOOST_TEST(response.result_int() == 413u);
  BOOST_TEST(response[bhttp::field::content_type] == "application/json; charset=utf-8");
  BOOST_TEST(response.body() ==
             R"({"error":"Request body is too large.","code":"body_too_large"})");
  BOOST_TEST(response[bhttp::field::content_length] == std::to_string(response.body().size()));

  BOOST_TEST(MakeTransportError(TransportError::kInvalidRequest).result_int() == 400u);
  BOOST_TEST(MakeTransportError(TransportError::kHeadersTooLarge).result_int() == 431u);
  BOOST_TEST(MakeTransportError(TransportError::kNotReady).result_int() == 503u);
  BOOST_TEST(MakeTransportError(TransportError::kInternal).body() ==
             R"({"error":"Internal error.","code":"internal"})");
}

BOOST_AUTO_TEST_CASE(transport_error_messages_are_escaped) {
  const Response response =
      MakeTransportError(TransportError::kInvalidRequest, "Say \"no\" \\ twice.\n");
  BOOST_TEST(response.body() == R"({"error":"Say \"no\" \\ twice.\n","code":"invalid_request"})");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::http
