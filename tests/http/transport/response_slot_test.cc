#include "http/response_slot.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>
#include <memory>
#include <optional>
#include <thread>

namespace keyledger::http {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

Response Ok(std::string body) {
  Response response{bhttp::status::ok, 11};
  response.body() = std::move(body);
  return response;
}

// Waits on `slot` inside a coroutine on `io`; `result` is set once the wait completes.
void SpawnWaiter(asio::io_context& io, std::shared_ptr<ResponseSlot> slot,
                 std::optional<std::optional<Response>>& result) {
  asio::co_spawn(
      io,
      [slot, &result]() -> asio::awaitable<void> {
        result = co_await slot->AsyncWait(asio::use_awaitable);
      },
      asio::detached);
}

BOOST_AUTO_TEST_SUITE(response_slot)

BOOST_AUTO_TEST_CASE(synchronous_answer_is_taken_without_waiting) {
  auto slot = std::make_shared<ResponseSlot>();
  Responder respond = MakeResponder(slot);
  respond(Ok("now"));
  auto taken = slot->TryTake();
  BOOST_REQUIRE(taken.has_value());
  BOOST_TEST(taken->body() == "now");
  BOOST_TEST(!slot->TryTake().has_value());
}

BOOST_AUTO_TEST_CASE(answer_from_another_thread_resumes_the_waiter_and_holds_work_meanwhile) {
  asio::io_context io;
  auto slot = std::make_shared<ResponseSlot>();
  Responder respond = MakeResponder(slot);
  std::optional<std::optional<Response>> result;
  SpawnWaiter(io, slot, result);
  io.poll();  // runs the coroutine up to its wait
  BOOST_TEST(!result.has_value());
  // Without outstanding work the io_context would count as finished and never resume the wait.
  BOOST_TEST(!io.stopped());
  std::thread([respond = std::move(respond)] { respond(Ok("later")); }).join();
  io.run();
  BOOST_REQUIRE(result.has_value());
  BOOST_REQUIRE(result->has_value());
  BOOST_TEST((*result)->body() == "later");
}

BOOST_AUTO_TEST_CASE(abandon_wakes_the_waiter_empty_and_drops_later_answers) {
  asio::io_context io;
  auto slot = std::make_shared<ResponseSlot>();
  Responder respond = MakeResponder(slot);
  std::optional<std::optional<Response>> result;
  SpawnWaiter(io, slot, result);
  io.poll();
  slot->Abandon();
  io.run();
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!result->has_value());
  BOOST_TEST(!slot->Fulfill(Ok("too late")));
  respond(Ok("too late"));  // must be harmless
}

BOOST_AUTO_TEST_CASE(dropped_responder_answers_500) {
  auto slot = std::make_shared<ResponseSlot>();
  { Responder respond = MakeResponder(slot); }
  auto taken = slot->TryTake();
  BOOST_REQUIRE(taken.has_value());
  BOOST_TEST(taken->result_int() == 500u);
}

BOOST_AUTO_TEST_CASE(second_answer_is_dropped) {
  auto slot = std::make_shared<ResponseSlot>();
  Responder respond = MakeResponder(slot);
  Responder copy = respond;
  respond(Ok("first"));
  copy(Ok("second"));
  auto taken = slot->TryTake();
  BOOST_REQUIRE(taken.has_value());
  BOOST_TEST(taken->body() == "first");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::http
