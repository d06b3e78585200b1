// Background threads at idle priority: the calling thread's scheduling policy really changes, and
// back again.

#include <boost/test/unit_test.hpp>

#include <sched.h>

#include <thread>

#include "core/thread_priority.h"

namespace keyledger {
namespace {

BOOST_AUTO_TEST_SUITE(thread_priority)

BOOST_AUTO_TEST_CASE(idle_and_back_to_normal_change_the_threads_policy) {
  int before = -1, idle = -1, normal = -1;
  bool set_idle = false, set_normal = false;
  // A thread of its own: the test runner's thread keeps its policy whatever happens here.
  std::thread([&] {
    before = sched_getscheduler(0);
    set_idle = SetThisThreadPriority(BackgroundPriority::kIdle);
    idle = sched_getscheduler(0);
    set_normal = SetThisThreadPriority(BackgroundPriority::kNormal);
    normal = sched_getscheduler(0);
  }).join();
  BOOST_TEST(before == SCHED_OTHER);
  BOOST_TEST(set_idle);
  BOOST_TEST(idle == SCHED_IDLE);
  BOOST_TEST(set_normal);  // root, or within RLIMIT_NICE: CI and the dev machines run as root
  BOOST_TEST(normal == SCHED_OTHER);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
