// ReadThread (long reads off the I/O thread) and the ledger's use of it for reads of the past and
// reviews: the caller never waits for a read, reads run in order and at the thread's priority,
// and Stop runs what waits.

#include <time.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_priority.h"
#include "projections/ledger.h"
#include "projections/read_thread.h"
#include "tests/projections/ledger_fixture.h"

namespace keyledger {
namespace {

using testing::KeyInput;
using testing::LedgerEnv;
using testing::ParkReadThread;

constexpr auto kPatience = std::chrono::seconds(10);  // a bound on waits that must not hang

// Polls, with a bound, until thread `tid` runs at `priority`. Sleeps between looks, so that a
// read thread polling itself uses no CPU: the watchdog raises only a read that starves.
void AwaitPriority(int tid, BackgroundPriority priority) {
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (ThreadPriority(tid) != priority && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

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

// A read of `steps` steps that records each as name + step number.
ReadThread::Step RecordingSteps(std::string name, int steps, std::mutex& mutex,
                                std::vector<std::string>& order) {
  return [name, steps, &mutex, &order, done = 0]() mutable {
    std::lock_guard lock(mutex);
    order.push_back(name + std::to_string(++done));
    return done == steps;
  };
}

BOOST_AUTO_TEST_CASE(reads_in_steps_take_turns_and_start_in_order) {
  ReadThread reads;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  reads.Run([released] { released.wait_for(kPatience); });  // the others queue behind it
  std::mutex mutex;
  std::vector<std::string> order;
  std::promise<void> finished;
  reads.RunInSteps(RecordingSteps("a", 3, mutex, order));
  reads.RunInSteps(RecordingSteps("b", 2, mutex, order));
  reads.Run([&] {
    std::lock_guard lock(mutex);
    order.push_back("c");
  });
  reads.RunInSteps([&, step = RecordingSteps("d", 1, mutex, order)] {
    const bool done = step();
    finished.set_value();
    return done;
  });
  release.set_value();
  BOOST_TEST_REQUIRE((finished.get_future().wait_for(kPatience) == std::future_status::ready));
  reads.Stop();  // runs a's last step if it has not run yet
  std::lock_guard lock(mutex);
  BOOST_TEST((order == std::vector<std::string>{"a1", "b1", "c", "d1", "a2", "b2", "a3"}));
}

BOOST_AUTO_TEST_CASE(stop_finishes_reads_in_steps_and_later_ones_run_whole_on_the_caller) {
  ReadThread reads;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  reads.Run([released] { released.wait_for(kPatience); });
  std::mutex mutex;
  std::vector<std::string> order;
  reads.RunInSteps(RecordingSteps("a", 4, mutex, order));
  std::thread stopper([&] { reads.Stop(); });
  release.set_value();
  stopper.join();
  {
    std::lock_guard lock(mutex);
    BOOST_TEST((order == std::vector<std::string>{"a1", "a2", "a3", "a4"}));
    order.clear();
  }
  std::thread::id ran_on;
  reads.RunInSteps([&, step = RecordingSteps("b", 3, mutex, order)] {
    ran_on = std::this_thread::get_id();
    return step();
  });
  BOOST_TEST((ran_on == std::this_thread::get_id()));
  std::lock_guard lock(mutex);
  BOOST_TEST((order == std::vector<std::string>{"b1", "b2", "b3"}));
}

BOOST_AUTO_TEST_CASE(a_raised_read_stays_raised_for_its_later_steps_and_others_start_at_idle) {
  if (!CanLeaveIdlePriority()) {
    BOOST_TEST_MESSAGE("skipped: this process may not raise a thread from idle priority");
    return;
  }
  using P = std::optional<BackgroundPriority>;
  // Long enough that b, which records its priority as it starts, is not raised first on a busy
  // machine.
  ReadThread reads(BackgroundPriority::kIdle, std::chrono::milliseconds(100));
  std::mutex mutex;
  std::vector<std::pair<std::string, P>> seen;
  std::promise<void> finished;
  auto record = [&](std::string what) {
    std::lock_guard lock(mutex);
    seen.emplace_back(std::move(what), ThreadPriority(CurrentThreadId()));
  };
  reads.RunInSteps([&, steps = 0]() mutable {
    if (++steps == 1) {
      // Raised by the watchdog once the read has starved for 100 ms (it sleeps: it uses no CPU).
      AwaitPriority(CurrentThreadId(), BackgroundPriority::kLow);
      record("a1");
      return false;
    }
    record("a2");
    finished.set_value();
    return true;
  });
  reads.Run([&] { record("b"); });
  BOOST_TEST_REQUIRE((finished.get_future().wait_for(kPatience) == std::future_status::ready));
  std::lock_guard lock(mutex);
  const std::vector<std::pair<std::string, P>> expected = {
      {"a1", BackgroundPriority::kLow}, {"b", BackgroundPriority::kIdle}, {"a2", BackgroundPriority::kLow}};
  BOOST_TEST_REQUIRE(seen.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST_CONTEXT(expected[i].first) {
      BOOST_TEST(seen[i].first == expected[i].first);
      BOOST_TEST((seen[i].second == expected[i].second));
    }
  }
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
  env.ledger->RunLongRead([&] {
    entered.set_value();
    released.wait_for(kPatience);
    answer.set_value(env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kActive, 10, "", created));
    return std::function<void()>();
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

BOOST_AUTO_TEST_CASE(runs_its_reads_at_the_priority_it_was_given) {
  for (BackgroundPriority priority : {BackgroundPriority::kLow, BackgroundPriority::kIdle}) {
    ReadThread reads(priority);
    std::promise<std::optional<BackgroundPriority>> seen;
    reads.Run([&] { seen.set_value(ThreadPriority(CurrentThreadId())); });
    auto future = seen.get_future();
    BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
    BOOST_TEST((future.get() == priority));
  }
  // The caller's own priority is untouched.
  BOOST_TEST((ThreadPriority(CurrentThreadId()) == BackgroundPriority::kNormal));
}

BOOST_AUTO_TEST_CASE(a_read_starving_at_idle_priority_for_raise_after_is_raised_to_low) {
  if (!CanLeaveIdlePriority()) {
    BOOST_TEST_MESSAGE("skipped: this process may not raise a thread from idle priority");
    return;
  }
  ReadThread reads(BackgroundPriority::kIdle, std::chrono::milliseconds(1));
  std::promise<int> tid;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  reads.Run([&] {
    tid.set_value(CurrentThreadId());
    released.wait_for(kPatience);
  });
  std::promise<std::optional<BackgroundPriority>> next_started_at;
  reads.Run([&] { next_started_at.set_value(ThreadPriority(CurrentThreadId())); });
  auto tid_future = tid.get_future();
  BOOST_TEST_REQUIRE((tid_future.wait_for(kPatience) == std::future_status::ready));
  const int read_tid = tid_future.get();
  // Raised by the watchdog once the read has starved for 1 ms (it waits: it uses no CPU).
  AwaitPriority(read_tid, BackgroundPriority::kLow);
  BOOST_TEST((ThreadPriority(read_tid) == BackgroundPriority::kLow));
  release.set_value();
  // The next read starts at idle priority again.
  auto next = next_started_at.get_future();
  BOOST_TEST_REQUIRE((next.wait_for(kPatience) == std::future_status::ready));
  BOOST_TEST((next.get() == BackgroundPriority::kIdle));
}

// The CPU time of the calling thread.
std::chrono::nanoseconds ThisThreadCpuTime() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

BOOST_AUTO_TEST_CASE(a_read_that_gets_the_core_it_needs_is_not_raised) {
  if (!CanLeaveIdlePriority()) {
    BOOST_TEST_MESSAGE("skipped: this process may not raise a thread from idle priority");
    return;
  }
  const auto interval = std::chrono::milliseconds(20);
  ReadThread reads(BackgroundPriority::kIdle, interval);
  struct Seen {
    double least_share = 1;  // the smallest share of a core the read had over an interval
    std::optional<BackgroundPriority> priority;
  };
  std::promise<Seen> seen;
  reads.Run([&] {
    Seen s;
    for (int i = 0; i < 10; ++i) {  // ten intervals of spinning, each measured
      const auto from = std::chrono::steady_clock::now();
      const auto cpu_from = ThisThreadCpuTime();
      while (std::chrono::steady_clock::now() - from < interval) {
      }
      const std::chrono::duration<double> wall = std::chrono::steady_clock::now() - from;
      const std::chrono::duration<double> cpu = ThisThreadCpuTime() - cpu_from;
      s.least_share = std::min(s.least_share, cpu.count() / wall.count());
    }
    s.priority = ThreadPriority(CurrentThreadId());
    seen.set_value(s);
  });
  auto future = seen.get_future();
  BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
  const Seen s = future.get();
  // At idle priority the read runs only when its core has nothing else to run: on a machine busy
  // enough to starve it, being raised is right, and the test cannot tell.
  if (s.least_share < 2 * ReadThread::kStarvedShare) {
    BOOST_TEST_MESSAGE("inconclusive: the read got only " << s.least_share << " of a core");
    return;
  }
  BOOST_TEST((s.priority == BackgroundPriority::kIdle));
}

BOOST_AUTO_TEST_CASE(a_read_is_not_raised_before_raise_after) {
  ReadThread reads(BackgroundPriority::kIdle, std::chrono::hours(1));
  std::promise<std::optional<BackgroundPriority>> seen;
  reads.Run([&] {
    // Give a watchdog that raised at once (ignoring raise_after) every chance to have done so.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seen.set_value(ThreadPriority(CurrentThreadId()));
  });
  auto future = seen.get_future();
  BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
  BOOST_TEST((future.get() == BackgroundPriority::kIdle));
  reads.Stop();  // the watchdog ends with the thread
}

BOOST_AUTO_TEST_CASE(an_urgent_section_runs_at_normal_priority_then_at_the_reads_again) {
  if (!CanLeaveIdlePriority()) {
    BOOST_TEST_MESSAGE("skipped: this process may not raise a thread from idle priority");
    return;
  }
  using P = std::optional<BackgroundPriority>;
  {
    ReadThread reads(BackgroundPriority::kIdle, std::chrono::hours(1));
    std::promise<std::array<P, 3>> seen;
    reads.Run([&] {
      std::array<P, 3> at;
      at[0] = ThreadPriority(CurrentThreadId());
      {
        const ReadThread::Urgency hold = reads.Urgent();
        at[1] = ThreadPriority(CurrentThreadId());
      }
      at[2] = ThreadPriority(CurrentThreadId());
      seen.set_value(at);
    });
    auto future = seen.get_future();
    BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
    const std::array<P, 3> at = future.get();
    BOOST_TEST((at[0] == BackgroundPriority::kIdle));
    BOOST_TEST((at[1] == BackgroundPriority::kNormal));
    BOOST_TEST((at[2] == BackgroundPriority::kIdle));
    // Not the read thread: nothing changes.
    std::thread other([&] {
      SetThisThreadPriority(BackgroundPriority::kLow);
      { const ReadThread::Urgency hold = reads.Urgent(); }
      BOOST_TEST((ThreadPriority(CurrentThreadId()) == BackgroundPriority::kLow));
    });
    other.join();
  }
  // The watchdog raises the read inside an urgent section: the thread stays at normal priority
  // until the section ends, then runs at low, not back at idle.
  ReadThread reads(BackgroundPriority::kIdle, std::chrono::milliseconds(1));
  std::promise<std::pair<P, int>> seen;
  std::promise<void> polled;
  std::shared_future<void> done_polling = polled.get_future().share();
  reads.Run([&, done_polling] {
    P during;
    {
      const ReadThread::Urgency hold = reads.Urgent();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the watchdog fires meanwhile
      during = ThreadPriority(CurrentThreadId());
    }
    seen.set_value({during, CurrentThreadId()});
    done_polling.wait_for(kPatience);  // still running while the test polls
  });
  auto future = seen.get_future();
  BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
  auto [during, tid] = future.get();
  BOOST_TEST((during == BackgroundPriority::kNormal));
  AwaitPriority(tid, BackgroundPriority::kLow);
  BOOST_TEST((ThreadPriority(tid) == BackgroundPriority::kLow));
  polled.set_value();
}

BOOST_AUTO_TEST_CASE(a_long_read_hands_its_answer_over_at_normal_priority) {
  if (!CanLeaveIdlePriority()) {
    BOOST_TEST_MESSAGE("skipped: this process may not raise a thread from idle priority");
    return;
  }
  LedgerOptions options = testing::TestOptions();
  options.long_read_priority = BackgroundPriority::kIdle;
  LedgerEnv env(options);
  using P = std::optional<BackgroundPriority>;
  std::promise<std::pair<P, P>> seen;
  env.ledger->RunLongRead([&] {
    const P reading = ThreadPriority(CurrentThreadId());
    return std::function<void()>(
        [&seen, reading] { seen.set_value({reading, ThreadPriority(CurrentThreadId())}); });
  });
  auto future = seen.get_future();
  BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
  auto [reading, delivering] = future.get();
  BOOST_TEST((reading == BackgroundPriority::kIdle));
  BOOST_TEST((delivering == BackgroundPriority::kNormal));
}

BOOST_AUTO_TEST_CASE(a_review_runs_on_the_read_thread_and_verifies_go_on_meanwhile) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("test"));
  const TimeMs asked_at = env.clock.Now();

  std::promise<void> release;
  ParkReadThread(*env.ledger, release.get_future().share());
  std::promise<std::pair<Result<WorkspaceReview>, std::thread::id>> answer;
  auto future = answer.get_future();
  env.ledger->Review(acme.auditor, "acme", [&](Result<WorkspaceReview> r) {
    answer.set_value({std::move(r), std::this_thread::get_id()});
  });
  BOOST_TEST((env.VerifyCodeOf(key.token) == VerifyCode::kValid));
  BOOST_TEST((future.wait_for(std::chrono::seconds(0)) == std::future_status::timeout));  // queued
  env.clock.Advance(5000);  // the review judges against the instant it runs at
  release.set_value();
  BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
  auto [review, thread] = future.get();
  BOOST_TEST((thread != std::this_thread::get_id()));
  BOOST_TEST_REQUIRE(review.ok(), review.status().message());
  BOOST_TEST(review->generated_at == asked_at + 5000);
  std::vector<std::string> rules;
  for (const ReviewFinding& f : review->findings) {
    BOOST_TEST(f.key_id == key.key.id);
    rules.push_back(f.rule);
  }
  BOOST_TEST((rules == std::vector<std::string>{"no_owner", "full_access", "vague_name"}));
}

BOOST_AUTO_TEST_CASE(a_refused_review_is_answered_before_anything_is_handed_over) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  env.MustSetUpWorkspace("globex");
  std::promise<void> release;
  ParkReadThread(*env.ledger, release.get_future().share());
  // Another workspace's admin, and the operator (who reads the ledger, not keys): both refused
  // at once, although the read thread is parked.
  for (const Principal& who : {acme.admin, env.op}) {
    std::optional<Status> refused;
    env.ledger->Review(who, "globex", [&](Result<WorkspaceReview> r) { refused = r.status(); });
    BOOST_TEST_REQUIRE(refused.has_value());
    BOOST_TEST((refused->code() == StatusCode::kForbidden), refused->message());
  }
  release.set_value();
}

BOOST_AUTO_TEST_CASE(a_review_walks_every_chunk_of_a_large_workspace) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  const size_t keys = Ledger::kReviewChunkKeys + 44;  // two chunks and part of a third (2 admins)
  std::vector<std::string> ids;
  for (size_t i = 0; i < keys; ++i) {
    ids.push_back(env.MustCreateKey(acme.admin, "acme", KeyInput("key " + std::to_string(i % 2)))
                      .key.id);
  }
  std::promise<Result<WorkspaceReview>> answer;
  env.ledger->Review(acme.admin, "acme", [&](Result<WorkspaceReview> r) { answer.set_value(std::move(r)); });
  auto future = answer.get_future();
  BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
  Result<WorkspaceReview> review = future.get();
  BOOST_TEST_REQUIRE(review.ok(), review.status().message());
  // Every key: no_owner and full_access; "key 1" (odd i) also vague_name. In creation order.
  std::vector<std::string> expected, found;
  for (size_t i = 0; i < keys; ++i) {
    expected.push_back(ids[i] + " no_owner");
    expected.push_back(ids[i] + " full_access");
    if (i % 2 == 1) expected.push_back(ids[i] + " vague_name");
  }
  for (const ReviewFinding& f : review->findings) found.push_back(f.key_id + " " + f.rule);
  BOOST_TEST(found.size() == expected.size());
  BOOST_TEST((found == expected));
}

BOOST_AUTO_TEST_CASE(key_reads_of_the_past_are_answered_from_the_read_thread_and_the_present_at_once) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  auto key = env.MustCreateKey(acme.admin, "acme", KeyInput("k1"));
  const TimeMs created = env.clock.Now();
  env.clock.Advance(1000);
  std::promise<void> release;
  ParkReadThread(*env.ledger, release.get_future().share());
  // The present: answered before the calls return, although the read thread is parked.
  bool key_found = false;
  size_t listed = 0;
  env.ledger->GetKey(acme.admin, "acme", key.key.id, std::nullopt,
                     [&](Result<KeyState> r) { key_found = r.ok() && r->id == key.key.id; });
  env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kActive, 10, "", std::nullopt,
                       [&](Result<KeyPage> r) { listed = r.ok() ? r->keys.size() : 0; });
  BOOST_TEST(key_found);
  BOOST_TEST(listed == 1u);
  // A question about the past the ledger refuses is answered at once too.
  std::optional<Status> future_refused, isolation_refused;
  env.ledger->GetKey(acme.admin, "acme", key.key.id, env.clock.Now() + 1,
                     [&](Result<KeyState> r) { future_refused = r.status(); });
  auto globex = env.MustSetUpWorkspace("globex");
  env.ledger->GetKey(globex.admin, "acme", key.key.id, created,
                     [&](Result<KeyState> r) { isolation_refused = r.status(); });
  BOOST_TEST_REQUIRE(future_refused.has_value());
  BOOST_TEST(future_refused->field() == "as_of");
  BOOST_TEST_REQUIRE(isolation_refused.has_value());
  BOOST_TEST((isolation_refused->code() == StatusCode::kForbidden));
  // The past: queued behind the parked read.
  std::promise<Result<KeyState>> past_key;
  std::promise<Result<KeyPage>> past_page;
  env.ledger->GetKey(acme.admin, "acme", key.key.id, created,
                     [&](Result<KeyState> r) { past_key.set_value(r); });
  env.ledger->ListKeys(acme.admin, "acme", KeyFilter::kActive, 10, "", created,
                       [&](Result<KeyPage> r) { past_page.set_value(r); });
  auto key_future = past_key.get_future();
  auto page_future = past_page.get_future();
  BOOST_TEST((key_future.wait_for(std::chrono::seconds(0)) == std::future_status::timeout));
  BOOST_TEST((page_future.wait_for(std::chrono::seconds(0)) == std::future_status::timeout));
  release.set_value();
  BOOST_TEST_REQUIRE((key_future.wait_for(kPatience) == std::future_status::ready));
  BOOST_TEST_REQUIRE((page_future.wait_for(kPatience) == std::future_status::ready));
  Result<KeyState> then = key_future.get();
  BOOST_TEST_REQUIRE(then.ok(), then.status().message());
  BOOST_TEST(then->id == key.key.id);
  Result<KeyPage> page = page_future.get();
  BOOST_TEST_REQUIRE(page.ok(), page.status().message());
  BOOST_TEST(page->keys.size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_audit_that_reads_far_is_answered_from_the_read_thread) {
  LedgerEnv env;
  auto acme = env.MustSetUpWorkspace("acme");
  for (size_t i = 0; i < Ledger::kAuditInlineRows; ++i) {
    env.MustCreateKey(acme.admin, "acme", KeyInput("k" + std::to_string(i)));
  }
  // Within the bound: the newest page of the timeline is answered before Audit returns.
  EventQuery newest;
  newest.descending = true;
  newest.limit = 10;
  std::optional<Result<EventPage>> inline_answer;
  env.ledger->Audit(acme.admin, "acme", newest, [&](Result<EventPage> r) { inline_answer = r; });
  BOOST_TEST_REQUIRE(inline_answer.has_value());
  BOOST_TEST_REQUIRE(inline_answer->ok());
  BOOST_TEST((*inline_answer)->events.size() == 10u);

  // An actor nobody is reads every lifecycle row: more than the bound, so it is handed over.
  std::promise<void> release;
  ParkReadThread(*env.ledger, release.get_future().share());
  EventQuery alice;
  alice.actor = "alice";
  std::promise<Result<EventPage>> answer;
  auto future = answer.get_future();
  env.ledger->Audit(acme.admin, "acme", alice, [&](Result<EventPage> r) { answer.set_value(r); });
  BOOST_TEST((future.wait_for(std::chrono::seconds(0)) == std::future_status::timeout));  // queued
  release.set_value();
  BOOST_TEST_REQUIRE((future.wait_for(kPatience) == std::future_status::ready));
  Result<EventPage> page = future.get();
  BOOST_TEST_REQUIRE(page.ok(), page.status().message());
  BOOST_TEST(page->events.empty());
  BOOST_TEST(!page->cut_short);
  BOOST_TEST(page->next_cursor.empty());
  // And a refused principal is answered at once, as before.
  std::optional<Status> refused;
  env.ledger->Audit(env.op, "acme", alice, [&](Result<EventPage> r) { refused = r.status(); });
  BOOST_TEST_REQUIRE(refused.has_value());
  BOOST_TEST((refused->code() == StatusCode::kForbidden));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
