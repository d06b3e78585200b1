#include <boost/test/unit_test.hpp>
#include <boost/test/data/test_case.hpp>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>
#include <string>

#include "tests/http/transport/test_support.h"

namespace keyledger::http::testing {
namespace {

namespace bhttp = boost::beast::http;

// Sends `raw` on a fresh connection and returns the single response.
Response RoundTrip(const TestServer& server, const std::string& raw) {
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send(raw));
  Response response;
  const auto ec = client.Read(response);
  BOOST_REQUIRE_MESSAGE(!ec, "read failed: " << ec.message());
  return response;
}

BOOST_AUTO_TEST_SUITE(server)

BOOST_AUTO_TEST_CASE(get_is_answered_with_generated_request_id_and_server_name) {
  TestHandler handler;
  TestServer server(handler);
  const Response response = RoundTrip(server, RawRequest("GET", "/hello?x=1"));
  BOOST_TEST(response.result_int() == 200u);
  BOOST_TEST(response.body() == "GET /hello?x=1\n");
  const std::string id(response["X-Request-Id"]);
  BOOST_TEST(id.size() == 16u);
  BOOST_TEST(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(response[bhttp::field::server] == "keyledger");
  BOOST_TEST(response["X-Remote-Ip"] == "127.0.0.1");
  BOOST_TEST(response[bhttp::field::content_length] == std::to_string(response.body().size()));
}

BOOST_AUTO_TEST_CASE(post_body_reaches_handler_and_request_id_is_echoed) {
  TestHandler handler;
  TestServer server(handler);
  const Response response =
      RoundTrip(server, PostRequest("/v1/keys", R"({"name":"ci"})", "X-Request-Id: abc-123\r\n"));
  BOOST_TEST(response.result_int() == 200u);
  BOOST_TEST(response.body() == "POST /v1/keys\n{\"name\":\"ci\"}");
  BOOST_TEST(response["X-Request-Id"] == "abc-123");
}

BOOST_AUTO_TEST_CASE(unusable_request_ids_are_replaced) {
  TestHandler handler;
  TestServer server(handler);
  for (const std::string& bad : {std::string("has space"), std::string(129, 'a')}) {
    const Response response =
        RoundTrip(server, RawRequest("GET", "/", "X-Request-Id: " + bad + "\r\n"));
    BOOST_TEST(response["X-Request-Id"] != bad);
    BOOST_TEST(response["X-Request-Id"].size() == 16u);
  }
}

BOOST_AUTO_TEST_CASE(request_id_set_by_handler_is_kept) {
  TestHandler handler;
  TestServer server(handler);
  const Response response = RoundTrip(server, RawRequest("GET", "/own-id", "X-Request-Id: c1\r\n"));
  BOOST_TEST(response["X-Request-Id"] == "handler-id");
}

BOOST_DATA_TEST_CASE(keep_alive_serves_two_requests_on_one_connection, boost::unit_test::data::make(IoThreadCounts()), io_threads) {
  TestHandler handler;
  ServerOptions options;
  options.io_threads = io_threads;
  TestServer server(handler, options);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  for (const char* target : {"/first", "/second"}) {
    BOOST_REQUIRE(!client.Send(RawRequest("GET", target)));
    Response response;
    BOOST_REQUIRE(!client.Read(response));
    BOOST_TEST(response.body() == std::string("GET ") + target + "\n");
    BOOST_TEST(response.keep_alive());
  }
  BOOST_TEST(server.server().connection_count() == 1u);
}

BOOST_DATA_TEST_CASE(pipelined_requests_are_answered_in_order, boost::unit_test::data::make(IoThreadCounts()), io_threads) {
  TestHandler handler;
  ServerOptions options;
  options.io_threads = io_threads;
  TestServer server(handler, options);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  // The first answer comes late from another thread, the second at once: order must still hold.
  BOOST_REQUIRE(!client.Send(RawRequest("GET", "/async?ms=100") + RawRequest("GET", "/fast") +
                             PostRequest("/third", "3")));
  Response first, second, third;
  BOOST_REQUIRE(!client.Read(first));
  BOOST_REQUIRE(!client.Read(second));
  BOOST_REQUIRE(!client.Read(third));
  BOOST_TEST(first.body() == "async /async?ms=100");
  BOOST_TEST(second.body() == "GET /fast\n");
  BOOST_TEST(third.body() == "POST /third\n3");
}

BOOST_DATA_TEST_CASE(handler_may_answer_later_from_another_thread, boost::unit_test::data::make(IoThreadCounts()), io_threads) {
  TestHandler handler;
  ServerOptions options;
  options.io_threads = io_threads;
  TestServer server(handler, options);
  const Response response = RoundTrip(server, RawRequest("GET", "/async?ms=50"));
  BOOST_TEST(response.result_int() == 200u);
  BOOST_TEST(response.body() == "async /async?ms=50");
  BOOST_TEST(response["X-Request-Id"].size() == 16u);
}

BOOST_AUTO_TEST_CASE(handler_that_throws_gets_500_and_server_keeps_serving) {
  TestHandler handler;
  TestServer server(handler);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send(RawRequest("GET", "/throw", "Authorization: Bearer secret\r\n")));
  Response failed;
  BOOST_REQUIRE(!client.Read(failed));
  BOOST_TEST(failed.result_int() == 500u);
  BOOST_TEST(failed.body() == R"({"error":"Internal error.","code":"internal"})");
  BOOST_TEST(failed[bhttp::field::content_type] == "application/json; charset=utf-8");
  BOOST_TEST(failed["X-Request-Id"].size() == 16u);
  // The request was read completely, so the same connection goes on.
  BOOST_REQUIRE(!client.Send(RawRequest("GET", "/after")));
  Response after;
  BOOST_REQUIRE(!client.Read(after));
  BOOST_TEST(after.body() == "GET /after\n");
  BOOST_TEST(RoundTrip(server, RawRequest("GET", "/fresh")).result_int() == 200u);
}

BOOST_AUTO_TEST_CASE(handler_that_drops_its_responder_gets_500) {
  TestHandler handler;
  TestServer server(handler);
  const Response response = RoundTrip(server, RawRequest("GET", "/drop"));
  BOOST_TEST(response.result_int() == 500u);
  BOOST_TEST(ErrorCode(response) == "internal");
}

BOOST_AUTO_TEST_CASE(chunked_body_is_decoded) {
  TestHandler handler;
  TestServer server(handler);
  const Response response =
      RoundTrip(server, RawRequest("POST", "/chunked", "Transfer-Encoding: chunked\r\n",
                                   "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  BOOST_TEST(response.result_int() == 200u);
  BOOST_TEST(response.body() == "POST /chunked\nhello world");
}

BOOST_AUTO_TEST_CASE(expect_100_continue_gets_interim_response) {
  TestHandler handler;
  TestServer server(handler);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(
      !client.Send(RawRequest("POST", "/upload", "Content-Length: 4\r\nExpect: 100-continue\r\n")));
  Response interim;
  BOOST_REQUIRE(!client.Read(interim));
  BOOST_TEST(interim.result_int() == 100u);
  BOOST_REQUIRE(!client.Send("data"));
  Response final_response;
  BOOST_REQUIRE(!client.Read(final_response));
  BOOST_TEST(final_response.body() == "POST /upload\ndata");
}

BOOST_AUTO_TEST_CASE(head_response_has_headers_but_no_body) {
  TestHandler handler;
  TestServer server(handler);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send(RawRequest("HEAD", "/h") + RawRequest("GET", "/g")));
  Response head, get;
  BOOST_REQUIRE(!client.Read(head, /*to_head=*/true));
  BOOST_TEST(head[bhttp::field::content_length] == "8");  // "HEAD /h\n"
  // Had the body been sent, it would be parsed as the start of the next response and fail.
  BOOST_REQUIRE(!client.Read(get));
  BOOST_TEST(get.body() == "GET /g\n");
}

BOOST_AUTO_TEST_CASE(http_1_0_and_connection_close_end_the_connection) {
  TestHandler handler;
  TestServer server(handler);
  for (const std::string& raw : {std::string("GET /old HTTP/1.0\r\n\r\n"),
                                 RawRequest("GET", "/bye", "Connection: close\r\n")}) {
    TestClient client;
    ConnectOrFail(client, server.endpoint());
    BOOST_REQUIRE(!client.Send(raw));
    Response response;
    BOOST_REQUIRE(!client.Read(response));
    BOOST_TEST(response.result_int() == 200u);
    BOOST_TEST(!response.keep_alive());
    BOOST_TEST(client.WaitForClose() == boost::asio::error::eof);
  }
}

BOOST_AUTO_TEST_CASE(http_1_0_keep_alive_is_honoured) {
  TestHandler handler;
  TestServer server(handler);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  for (const char* target : {"/a", "/b"}) {
    BOOST_REQUIRE(
        !client.Send(std::string("GET ") + target + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    Response response;
    BOOST_REQUIRE(!client.Read(response));
    BOOST_TEST(response.version() == 10u);
    BOOST_TEST(response[bhttp::field::connection] == "keep-alive");
    BOOST_TEST(response.body() == std::string("GET ") + target + "\n");
  }
}

BOOST_AUTO_TEST_CASE(response_bytes_are_exactly_beasts_serialization) {
  // Plain-TCP responses are serialized by the session itself; a Beast parse and re-serialization
  // of what arrived must give the same bytes (status line, field lines, blank line, body).
  TestHandler handler;
  TestServer server(handler);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect(server.endpoint());
  const timeval timeout{5, 0};  // a broken server fails the read instead of hanging the test
  BOOST_REQUIRE(setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                           sizeof timeout) == 0);
  boost::asio::write(socket, boost::asio::buffer(PostRequest(
                                 "/exact", "body \xC3\xA9", "X-Request-Id: r-1\r\nConnection: close\r\n")));
  std::string raw;
  boost::system::error_code ec;
  boost::asio::read(socket, boost::asio::dynamic_buffer(raw), ec);
  BOOST_TEST(ec == boost::asio::error::eof);
  bhttp::response_parser<bhttp::string_body> parser;
  parser.eager(true);
  boost::system::error_code parse_ec;
  const std::size_t used = parser.put(boost::asio::buffer(raw), parse_ec);
  BOOST_REQUIRE_MESSAGE(!parse_ec, parse_ec.message());
  BOOST_TEST(used == raw.size());
  BOOST_REQUIRE(parser.is_done());
  std::ostringstream reserialized;
  reserialized << parser.get();
  BOOST_TEST(raw == reserialized.str());
  BOOST_TEST(raw.rfind("HTTP/1.1 200 OK\r\n", 0) == 0u);
  BOOST_TEST(parser.get()["X-Request-Id"] == "r-1");
  BOOST_TEST(parser.get().body() == "POST /exact\nbody \xC3\xA9");
}

BOOST_AUTO_TEST_CASE(response_larger_than_the_socket_buffer_arrives_whole) {
  // The first non-blocking write takes only part of it; the rest goes out asynchronously.
  ServerOptions options;
  options.body_limit = 32 << 20;
  TestHandler handler;
  TestServer server(handler, options);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  std::string body(16 << 20, 'x');
  for (std::size_t i = 0; i < body.size(); i += 4096) body[i] = static_cast<char>('a' + i / 4096 % 26);
  BOOST_REQUIRE(!client.Send(PostRequest("/big", body)));
  Response response;
  BOOST_REQUIRE(!client.Read(response));
  BOOST_TEST(response.result_int() == 200u);
  BOOST_TEST((response.body() == "POST /big\n" + body));
  // The connection is still usable afterwards.
  BOOST_REQUIRE(!client.Send(RawRequest("GET", "/after")));
  BOOST_REQUIRE(!client.Read(response));
  BOOST_TEST(response.body() == "GET /after\n");
}

BOOST_AUTO_TEST_CASE(request_split_across_reads_is_parsed_once_complete) {
  // Requests are parsed from bytes already read when they are whole; a partial one falls back to
  // reading more, header and body alike.
  TestHandler handler;
  TestServer server(handler);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  const std::string raw = PostRequest("/split", "0123456789") + RawRequest("GET", "/next");
  const std::size_t header_end = raw.find("\r\n\r\n");
  BOOST_REQUIRE(!client.Send(std::string_view(raw).substr(0, 10)));                  // mid request line
  BOOST_REQUIRE(!client.Send(std::string_view(raw).substr(10, header_end + 4 - 10)));  // rest of header
  BOOST_REQUIRE(!client.Send(std::string_view(raw).substr(header_end + 4, 4)));        // part of the body
  BOOST_REQUIRE(!client.Send(std::string_view(raw).substr(header_end + 8)));           // the rest + next
  Response first, second;
  BOOST_REQUIRE(!client.Read(first));
  BOOST_REQUIRE(!client.Read(second));
  BOOST_TEST(first.body() == "POST /split\n0123456789");
  BOOST_TEST(second.body() == "GET /next\n");
}

BOOST_AUTO_TEST_CASE(listen_on_a_busy_port_throws_system_error) {
  TestHandler handler;
  TestServer server(handler);
  boost::asio::io_context io;
  HttpServer second(io, ServerOptions{}, handler);
  try {
    (void)second.Listen(server.endpoint());
    BOOST_ERROR("Listen on a busy port did not throw");
  } catch (const std::system_error& e) {
    BOOST_TEST((e.code() == std::errc::address_in_use), e.code().message());
    BOOST_TEST(std::string(e.what()).find(
                   "127.0.0.1:" + std::to_string(server.endpoint().port())) != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::http::testing
