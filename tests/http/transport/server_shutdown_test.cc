#include <boost/test/unit_test.hpp>
#include <boost/test/data/test_case.hpp>
#include <string>

#include "tests/http/transport/test_support.h"

namespace keyledger::http::testing {
namespace {

namespace asio = boost::asio;

bool IsReady(const std::future<void>& future, std::chrono::milliseconds wait = {}) {
  return future.wait_for(wait) == std::future_status::ready;
}

// True once a new connection to `endpoint` is refused; polls for up to kIoTimeout.
bool BecomesRefused(const asio::ip::tcp::endpoint& endpoint) {
  const auto deadline = std::chrono::steady_clock::now() + kIoTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    TestClient probe;
    if (probe.Connect(endpoint) == asio::error::connection_refused) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

BOOST_AUTO_TEST_SUITE(server_shutdown)

BOOST_DATA_TEST_CASE(stop_lets_in_flight_request_finish_and_closes_idle_connections, boost::unit_test::data::make(IoThreadCounts()), io_threads) {
  TestHandler handler;
  ServerOptions options;
  options.io_threads = io_threads;
  options.shutdown_grace = std::chrono::seconds(30);  // far beyond every wait below
  TestServer server(handler, options);

  TestClient idle;
  ConnectOrFail(idle, server.endpoint());
  BOOST_REQUIRE(!idle.Send(RawRequest("GET", "/")));
  Response first;
  BOOST_REQUIRE(!idle.Read(first));

  TestClient busy;
  ConnectOrFail(busy, server.endpoint());
  BOOST_REQUIRE(!busy.Send(RawRequest("GET", "/hold")));
  BOOST_REQUIRE(handler.WaitForHeld(1));

  std::future<void> stopped = server.Stop();
  BOOST_TEST(BecomesRefused(server.endpoint()));
  // The idle keep-alive connection goes at once, long before the grace period.
  BOOST_TEST(idle.WaitForClose() == asio::error::eof);
  BOOST_TEST(!IsReady(stopped), "on_stopped ran while a request was still in flight");

  handler.ReleaseHeld();
  Response held;
  const auto ec = busy.Read(held);
  BOOST_REQUIRE_MESSAGE(!ec, "in-flight response lost: " << ec.message());
  BOOST_TEST(held.result_int() == 200u);
  BOOST_TEST(held.body() == "released");
  BOOST_TEST(!held.keep_alive());
  BOOST_TEST(busy.WaitForClose() == asio::error::eof);
  BOOST_TEST(IsReady(stopped, kIoTimeout));
}

BOOST_DATA_TEST_CASE(stop_cuts_connections_still_busy_after_the_grace_period, boost::unit_test::data::make(IoThreadCounts()), io_threads) {
  TestHandler handler;
  ServerOptions options;
  options.io_threads = io_threads;
  options.shutdown_grace = std::chrono::milliseconds(200);
  TestServer server(handler, options);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send(RawRequest("GET", "/hold")));
  BOOST_REQUIRE(handler.WaitForHeld(1));

  std::future<void> stopped = server.Stop();
  BOOST_TEST(IsReady(stopped, kIoTimeout));
  const auto ec = client.WaitForClose();
  BOOST_TEST((ec == asio::error::eof || ec == asio::error::connection_reset),
             "expected a closed connection, got: " << ec.message());
  BOOST_TEST(client.unexpected_bytes() == 0u);
  handler.ReleaseHeld();  // an answer after the cut is dropped quietly
}

BOOST_AUTO_TEST_CASE(stop_without_connections_finishes_and_every_caller_is_told) {
  TestHandler handler;
  TestServer server(handler);
  std::future<void> stopped = server.Stop();
  BOOST_TEST(IsReady(stopped, kIoTimeout));
  std::promise<void> late;
  server.server().Stop([&late] { late.set_value(); });
  BOOST_TEST(IsReady(late.get_future(), kIoTimeout));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::http::testing
