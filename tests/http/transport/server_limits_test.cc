#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <boost/test/data/test_case.hpp>
#include <string>

#include "tests/http/transport/test_support.h"

namespace keyledger::http::testing {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

constexpr std::size_t kBodyLimit = 64 * 1024;

// Sends `raw` and expects one transport error with `status` and `code`, then a closed connection.
void ExpectErrorAndClose(const TestServer& server, const std::string& raw, unsigned status,
                         const std::string& code) {
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send(raw));
  Response response;
  const auto ec = client.Read(response);
  BOOST_REQUIRE_MESSAGE(!ec, "read failed: " << ec.message());
  BOOST_TEST(response.result_int() == status);
  BOOST_TEST(ErrorCode(response) == code);
  BOOST_TEST(response[bhttp::field::content_type] == "application/json; charset=utf-8");
  BOOST_TEST(!response.keep_alive());
  BOOST_TEST(client.WaitForClose() == asio::error::eof);
}

std::string Chunked(std::size_t total, std::size_t chunk) {
  std::string body;
  for (std::size_t sent = 0; sent < total; sent += chunk) {
    const std::size_t n = std::min(chunk, total - sent);
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", n);
    body.append(size).append(n, 'b').append("\r\n");
  }
  return body + "0\r\n\r\n";
}

// Polls `condition` every few milliseconds for up to kIoTimeout.
template <class Condition>
bool Eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + kIoTimeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

BOOST_AUTO_TEST_SUITE(server_limits)

BOOST_AUTO_TEST_CASE(body_at_the_limit_is_accepted) {
  TestHandler handler;
  TestServer server(handler);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send(PostRequest("/big", std::string(kBodyLimit, 'a'))));
  Response response;
  BOOST_REQUIRE(!client.Read(response));
  BOOST_TEST(response.result_int() == 200u);
  BOOST_TEST(response.body().size() == std::string("POST /big\n").size() + kBodyLimit);
}

BOOST_AUTO_TEST_CASE(declared_body_over_the_limit_gets_413) {
  TestHandler handler;
  TestServer server(handler);
  ExpectErrorAndClose(server, PostRequest("/big", std::string(65 * 1024, 'a')), 413,
                      "body_too_large");
  BOOST_TEST(handler.handled() == 0u);
}

BOOST_AUTO_TEST_CASE(chunked_body_over_the_limit_gets_413) {
  TestHandler handler;
  TestServer server(handler);
  ExpectErrorAndClose(
      server,
      RawRequest("POST", "/big", "Transfer-Encoding: chunked\r\n", Chunked(65 * 1024, 8 * 1024)),
      413, "body_too_large");
  BOOST_TEST(handler.handled() == 0u);
}

BOOST_AUTO_TEST_CASE(headers_over_the_limit_get_431) {
  TestHandler handler;
  TestServer server(handler);
  ExpectErrorAndClose(server,
                      RawRequest("GET", "/", "X-Padding: " + std::string(9 * 1024, 'p') + "\r\n"),
                      431, "headers_too_large");
  BOOST_TEST(handler.handled() == 0u);
}

BOOST_AUTO_TEST_CASE(connection_beyond_max_connections_gets_503) {
  TestHandler handler;
  ServerOptions options;
  options.max_connections = 2;
  TestServer server(handler, options);
  TestClient first, second;
  for (TestClient* client : {&first, &second}) {
    ConnectOrFail(*client, server.endpoint());
    BOOST_REQUIRE(!client->Send(RawRequest("GET", "/")));
    Response response;
    BOOST_REQUIRE(!client->Read(response));
    BOOST_REQUIRE(response.result_int() == 200u);
  }
  ExpectErrorAndClose(server, RawRequest("GET", "/third"), 503, "not_ready");

  // The admitted connections are unaffected.
  BOOST_REQUIRE(!second.Send(RawRequest("GET", "/again")));
  Response again;
  BOOST_REQUIRE(!second.Read(again));
  BOOST_TEST(again.result_int() == 200u);

  // Closing one frees its place (once the server has noticed the close).
  first.tcp().close();
  BOOST_TEST(Eventually([&] {
    TestClient next;
    ConnectOrFail(next, server.endpoint());
    Response response;
    return !next.Send(RawRequest("GET", "/")) && !next.Read(response) &&
           response.result_int() == 200u;
  }));
}

// Each 503 keeps its socket while the answer lingers: beyond 64 of them at once, a connection is
// closed without an answer, so that a flood cannot hold descriptors without bound.
BOOST_AUTO_TEST_CASE(a_flood_beyond_the_limit_holds_a_bounded_number_of_sockets) {
  TestHandler handler;
  ServerOptions options;
  options.max_connections = 1;
  TestServer server(handler, options);
  TestClient admitted;
  ConnectOrFail(admitted, server.endpoint());
  BOOST_REQUIRE(!admitted.Send(RawRequest("GET", "/")));
  Response ok;
  BOOST_REQUIRE(!admitted.Read(ok));

  // Connected all at once and kept open: the refused ones linger (up to 2 s) until we close.
  std::vector<std::unique_ptr<TestClient>> flood;
  for (int i = 0; i < 100; ++i) {
    flood.push_back(std::make_unique<TestClient>());
    ConnectOrFail(*flood.back(), server.endpoint());
  }
  size_t answered = 0, closed_unanswered = 0;
  for (auto& client : flood) {
    Response response;
    const auto ec = client->Read(response);
    if (!ec && response.result_int() == 503u) {
      ++answered;
    } else if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == bhttp::error::end_of_stream) {
      ++closed_unanswered;
    }
  }
  BOOST_TEST(answered + closed_unanswered == flood.size());
  BOOST_TEST(answered >= 1u);
  BOOST_TEST(answered <= 64u);
  BOOST_TEST(closed_unanswered >= 1u);

  // The admitted connection is unaffected.
  BOOST_REQUIRE(!admitted.Send(RawRequest("GET", "/again")));
  Response again;
  BOOST_REQUIRE(!admitted.Read(again));
  BOOST_TEST(again.result_int() == 200u);
}

BOOST_DATA_TEST_CASE(idle_connection_is_closed_after_keep_alive_timeout, boost::unit_test::data::make(IoThreadCounts()), io_threads) {
  TestHandler handler;
  ServerOptions options;
  options.io_threads = io_threads;
  options.keep_alive_timeout = std::chrono::milliseconds(200);
  TestServer server(handler, options);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send(RawRequest("GET", "/")));
  Response response;
  BOOST_REQUIRE(!client.Read(response));
  BOOST_TEST(response.keep_alive());
  const auto idle_since = std::chrono::steady_clock::now();
  BOOST_TEST(client.WaitForClose() == asio::error::eof);
  // The server cannot close before its timer fires; allow for the response's own travel time.
  const auto idle_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - idle_since)
                           .count();
  BOOST_TEST(idle_ms >= 100);
  BOOST_TEST(client.unexpected_bytes() == 0u);
}

BOOST_DATA_TEST_CASE(request_sent_too_slowly_is_dropped_without_response, boost::unit_test::data::make(IoThreadCounts()), io_threads) {
  TestHandler handler;
  ServerOptions options;
  options.io_threads = io_threads;
  options.read_timeout = std::chrono::milliseconds(200);
  TestServer server(handler, options);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send("GET / HTTP/1.1\r\nHost: test\r\n"));  // header never finished
  const auto ec = client.WaitForClose();
  BOOST_TEST((ec == asio::error::eof || ec == asio::error::connection_reset),
             "expected the server to close, got: " << ec.message());
  BOOST_TEST(client.unexpected_bytes() == 0u);
  BOOST_TEST(handler.handled() == 0u);
}

BOOST_AUTO_TEST_CASE(accept_loop_survives_running_out_of_descriptors) {
  TestHandler handler;
  TestServer server(handler);
  TestClient client;
  // The client's socket exists before the limit drops, so connecting needs no new descriptor.
  client.tcp().socket().open(asio::ip::tcp::v4());

  rlimit original{};
  BOOST_REQUIRE(getrlimit(RLIMIT_NOFILE, &original) == 0);
  const int lowest_free = ::open("/dev/null", O_RDONLY);
  BOOST_REQUIRE(lowest_free >= 0);
  ::close(lowest_free);
  rlimit exhausted = original;
  exhausted.rlim_cur = static_cast<rlim_t>(lowest_free);  // no descriptor left to allocate
  BOOST_REQUIRE(setrlimit(RLIMIT_NOFILE, &exhausted) == 0);
  struct Restore {
    rlimit limit;
    ~Restore() { setrlimit(RLIMIT_NOFILE, &limit); }
  } restore{original};

  ConnectOrFail(client, server.endpoint());  // completes in the kernel's backlog
  BOOST_REQUIRE(!client.Send(RawRequest("GET", "/after-emfile")));
  BOOST_REQUIRE_MESSAGE(Eventually([&] { return server.server().accept_failures() > 0; }),
                        "the server never hit EMFILE");
  BOOST_REQUIRE(setrlimit(RLIMIT_NOFILE, &original) == 0);

  Response response;
  const auto ec = client.Read(response);
  BOOST_REQUIRE_MESSAGE(!ec, "read failed: " << ec.message());
  BOOST_TEST(response.body() == "GET /after-emfile\n");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::http::testing
