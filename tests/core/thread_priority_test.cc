// Background threads at idle priority: the calling thread's scheduling policy really changes, and
// back again.

#include <boost/test/unit_test.hpp>

#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "core/thread_priority.h"
#include "tests/support/parked_thread.h"

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

// What the appender's syncer does around the fsync acknowledgements wait for: normal priority for
// the call, then back to SCHED_BATCH.
BOOST_AUTO_TEST_CASE(a_scoped_priority_holds_for_its_scope_then_gives_way_to_the_one_named) {
  int inside = -1, after = -1;
  std::thread([&] {
    SetThisThreadPriority(BackgroundPriority::kBatch);
    {
      const ScopedThisThreadPriority raised(BackgroundPriority::kNormal, BackgroundPriority::kBatch);
      inside = sched_getscheduler(0);
    }
    after = sched_getscheduler(0);
  }).join();
  BOOST_TEST(inside == SCHED_OTHER);
  BOOST_TEST(after == SCHED_BATCH);
}

// Another thread's priority, set by its id: what re-prioritises RocksDB's compaction threads.
BOOST_AUTO_TEST_CASE(another_threads_priority_changes_by_its_id) {
  {
    const testing::ParkedThread other;
    const int tid = other.tid();
    BOOST_TEST(tid != CurrentThreadId());
    BOOST_TEST((ThreadPriority(tid) == BackgroundPriority::kNormal));
    BOOST_TEST(SetThreadPriority(tid, BackgroundPriority::kIdle));
    BOOST_TEST(sched_getscheduler(tid) == SCHED_IDLE);
    BOOST_TEST((ThreadPriority(tid) == BackgroundPriority::kIdle));
    BOOST_TEST(sched_getscheduler(0) == SCHED_OTHER);  // only that thread
    BOOST_TEST(SetThreadPriority(tid, BackgroundPriority::kBatch));
    BOOST_TEST(sched_getscheduler(tid) == SCHED_BATCH);
    BOOST_TEST((ThreadPriority(tid) == BackgroundPriority::kBatch));
    BOOST_TEST(SetThreadPriority(tid, BackgroundPriority::kLow));
    BOOST_TEST(sched_getscheduler(tid) == SCHED_OTHER);
    BOOST_TEST(getpriority(PRIO_PROCESS, static_cast<id_t>(tid)) == kLowNice);
    BOOST_TEST((ThreadPriority(tid) == BackgroundPriority::kLow));
    BOOST_TEST(getpriority(PRIO_PROCESS, 0) == 0);  // only that thread
    BOOST_TEST(SetThreadPriority(tid, BackgroundPriority::kIdle));  // from low to idle...
    BOOST_TEST(sched_getscheduler(tid) == SCHED_IDLE);
    BOOST_TEST(SetThreadPriority(tid, BackgroundPriority::kNormal));  // ...and back to normal
    BOOST_TEST(sched_getscheduler(tid) == SCHED_OTHER);
    BOOST_TEST(getpriority(PRIO_PROCESS, static_cast<id_t>(tid)) == 0);
    BOOST_TEST((ThreadPriority(tid) == BackgroundPriority::kNormal));
  }
  // An id above any pid_max (2^22) names no thread. (A joined thread's own id is no test: the
  // kernel may still be tearing it down when join returns.)
  constexpr int kNoSuchThread = 1 << 30;
  BOOST_TEST(!ThreadPriority(kNoSuchThread).has_value());
  BOOST_TEST(!SetThreadPriority(kNoSuchThread, BackgroundPriority::kIdle));
}

// Whether this thread holds CAP_SYS_NICE in its effective set; with `drop`, drops it first (for
// this thread only: Linux capabilities are per thread, and threads it creates inherit them).
bool EffectiveCapSysNice(bool drop) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  const bool held = (data[CAP_TO_INDEX(CAP_SYS_NICE)].effective & CAP_TO_MASK(CAP_SYS_NICE)) != 0;
  if (drop && held) {
    data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~CAP_TO_MASK(CAP_SYS_NICE);
    if (syscall(SYS_capset, &header, data) != 0) return true;
    return EffectiveCapSysNice(false);
  }
  return held;
}

BOOST_AUTO_TEST_CASE(leaving_idle_priority_needs_cap_sys_nice_or_rlimit_nice) {
  rlimit nice_limit{};
  BOOST_TEST_REQUIRE(getrlimit(RLIMIT_NICE, &nice_limit) == 0);
  const bool limit_allows = nice_limit.rlim_cur >= 20;
  BOOST_TEST(CanLeaveIdlePriority() == (limit_allows || EffectiveCapSysNice(false)));
  if (limit_allows) {
    BOOST_TEST_MESSAGE("RLIMIT_NICE allows leaving idle priority without CAP_SYS_NICE: nothing to refuse");
    return;
  }
  // A thread without CAP_SYS_NICE (and so its probe thread) is refused.
  bool still_held = true, can_leave = true;
  std::thread([&] {
    still_held = EffectiveCapSysNice(/*drop=*/true);
    can_leave = CanLeaveIdlePriority();
  }).join();
  BOOST_TEST(!still_held);
  BOOST_TEST(!can_leave);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
