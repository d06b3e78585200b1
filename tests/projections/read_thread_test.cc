// ReadThread (reads of the past off the I/O thread) and the ledger's use of it: the caller never
// waits for a read, reads run in order, and Stop runs what waits.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "projections/ledger.h"
#include "projections/read_thread.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::KeyInput;
using testing::LedgerEnv;

constexpr auto kPatience = std::chrono::seconds(10);  // a bound on waits that must not hang

BOOST_AUTO_TEST_SUITE(ReadThreadTest)

BOOST_AUTO_TEST_CASE(runs_reads_in_order_off_the_callers_thread_without_waiting_for_them) {
  ReadThread reads;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> finished;
  std::mutex mutex;
  std::vector<int> order;
  std::thread::id read_thread;
  reads.Run([&] {
    released.wait_for(kPatience);  // bounded: a Run that waited for it fails instead of hanging
    std::lock_guard lock(mutex);
    read_thread = std::this_thread::get_id();
    order.push_back(1);
  });
  reads.Run([&] {
    std::lock_guard lock(mutex);
    order.push_back(2);
    finished.set_value();
  });
  // Both Runs returned while the first read is still blocked: the caller never waited.
  {
    std::lock_guard lock(mutex);
    BOOST_TEST(order.empty());
  }
  release.set_value();
  BOOST_TEST_REQUIRE((finished.get_future().wait_for(kPatience) == std::future_status::ready));
  std::lock_guard lock(mutex);
  BOOST_TEST((order == std::vector<int>{1, 2}));
  BOOST_TEST((read_thread != std::this_thread::get_id()));
}

BOOST_AUTO_TEST_CASE(stop_runs_the_reads_still_waiting_and_later_reads_run_on_the_caller) {
  ReadThread reads;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0};
  reads.Run([&] {
    released.wait_for(kPatience);
    ++ran;
  });
  reads.Run([&] { ++ran; });
  reads.Run([&] { ++ran; });
  std::thread stopper([&] { reads.Stop(); });
  release.set_value();
  stopper.join();
  BOOST_TEST(ran.load() == 3);
  std::thread::id ran_on;
  reads.Run([&] { ran_on = std::this_thread::get_id(); });
  BOOST_TEST((ran_on == std::this_thread::get_id()));
  reads.Stop();  // idempotent
}

BOOST_AUTO_TEST_CASE(a_read_of_the_past_does_not_hold_up_verifies) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k1"));
  const TimeMs created = env.clock.Now();
  env.clock.Advance(1000);

  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<Result<KeyPage>> answer;
  auto future = answer.get_future();
  env.ledger->RunPastRead([&] {
    entered.set_value();
    released.wait_for(kPatience);
    answer.set_value(env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kActive, 10, "", created));
  });
  BOOST_TEST_REQUIRE((entered.get_future().wait_for(kPatience) == std::future_status::ready));
  // The read is parked on the read thread; the ledger still verifies (and writes the use).
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  BOOST_TEST((future.wait_for(std::chrono::seconds(0)) == std::future_status::timeout));  // still parked
  release.set_value();
  BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
  Result<KeyPage> page = future.get();
  BOOST_TEST_REQUIRE(page.ok(), page.status().message());
  BOOST_TEST_REQUIRE(page->keys.size() == 1u);
  BOOST_TEST(page->keys[0].id == key.key.id);
  BOOST_TEST(page->keys[0].usage_count == 0u);  // as of its creation: not yet used
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
