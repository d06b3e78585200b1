#include <boost/test/unit_test.hpp>
#include <string>

#include "tests/http/transport/test_support.h"

namespace keyledger::http::testing {
namespace {

namespace bhttp = boost::beast::http;

// Sends `raw` followed by a second, innocent request. Expects exactly one 400 invalid_request,
// then a closed connection: the second request (the smuggled one, in an attack) is never served.
void ExpectRejectedAndClosed(const std::string& raw) {
  TestHandler handler;
  TestServer server(handler);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send(raw + RawRequest("GET", "/smuggled")));
  Response response;
  const auto ec = client.Read(response);
  BOOST_REQUIRE_MESSAGE(!ec, "read failed: " << ec.message());
  BOOST_TEST(response.result_int() == 400u);
  BOOST_TEST(ErrorCode(response) == "invalid_request");
  BOOST_TEST(response[bhttp::field::content_type] == "application/json; charset=utf-8");
  BOOST_TEST(!response.keep_alive());
  BOOST_TEST(!response["X-Request-Id"].empty());
  BOOST_TEST(client.WaitForClose() == boost::asio::error::eof);
  BOOST_TEST(client.unexpected_bytes() == 0u);
  BOOST_TEST(handler.handled() == 0u);
}

BOOST_AUTO_TEST_SUITE(server_framing)

// RFC 9112 section 2.2: empty lines before a request-line are ignored, not taken for a malformed
// request (a CRLF after a POST's body, as some clients send, would otherwise close keep-alive).
BOOST_AUTO_TEST_CASE(empty_lines_before_a_request_are_ignored) {
  TestHandler handler;
  TestServer server(handler);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send("\r\n" + PostRequest("/a", "{}") + "\r\n\r\n" + RawRequest("GET", "/b")));
  for (int i = 0; i < 2; ++i) {
    Response response;
    const auto ec = client.Read(response);
    BOOST_REQUIRE_MESSAGE(!ec, "read failed: " << ec.message());
    BOOST_TEST(response.result_int() == 200u, response.body());
    BOOST_TEST(response.keep_alive());
  }
  BOOST_TEST(handler.handled() == 2u);
  // A bare line feed is not an empty line.
  ExpectRejectedAndClosed("\n" + RawRequest("GET", "/a"));
}

BOOST_AUTO_TEST_CASE(chunked_with_content_length_is_rejected) {
  ExpectRejectedAndClosed(
      RawRequest("POST", "/a", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(content_length_before_chunked_is_rejected) {
  ExpectRejectedAndClosed(
      RawRequest("POST", "/a", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(other_coding_with_content_length_is_rejected) {
  ExpectRejectedAndClosed(
      RawRequest("POST", "/a", "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n", "hello"));
}

BOOST_AUTO_TEST_CASE(gzip_then_chunked_is_rejected) {
  ExpectRejectedAndClosed(
      RawRequest("POST", "/a", "Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(chunked_twice_in_one_field_is_rejected) {
  ExpectRejectedAndClosed(
      RawRequest("POST", "/a", "Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(xchunked_is_rejected) {
  ExpectRejectedAndClosed(RawRequest("POST", "/a", "Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(two_transfer_encoding_fields_are_rejected) {
  ExpectRejectedAndClosed(RawRequest(
      "POST", "/a", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"));
}

BOOST_AUTO_TEST_CASE(chunked_on_http_1_0_is_rejected) {
  ExpectRejectedAndClosed(
      "POST /a HTTP/1.0\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(repeated_equal_content_length_is_rejected) {
  ExpectRejectedAndClosed(
      RawRequest("POST", "/a", "Content-Length: 5\r\nContent-Length: 5\r\n", "hello"));
}

BOOST_AUTO_TEST_CASE(content_length_list_is_rejected) {
  ExpectRejectedAndClosed(RawRequest("POST", "/a", "Content-Length: 5, 5\r\n", "hello"));
}

BOOST_AUTO_TEST_CASE(http_1_1_without_host_is_rejected) {
  ExpectRejectedAndClosed("GET /a HTTP/1.1\r\nX-Note: no host\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(two_host_fields_are_rejected) {
  ExpectRejectedAndClosed(RawRequest("GET", "/a", "Host: elsewhere\r\n"));
}

BOOST_AUTO_TEST_CASE(malformed_request_line_is_rejected) {
  ExpectRejectedAndClosed("THIS IS NOT HTTP\r\n\r\n");
}

BOOST_AUTO_TEST_CASE(bad_chunk_size_is_rejected) {
  ExpectRejectedAndClosed(
      RawRequest("POST", "/a", "Transfer-Encoding: chunked\r\n", "zz\r\nhello\r\n0\r\n\r\n"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::http::testing
