// BackgroundPriorityListener on real threads: a background thread is idle while flushes keep up;
// low while a column family has two or more sealed memtables waiting for a flush; normal while one
// stalls writes; and idle again once none does. Its writes are paced (a real RocksDB rate limiter)
// only while it is just behind (two sealed memtables) and nothing stalls.

#include <boost/test/unit_test.hpp>

#include <optional>

#include "core/thread_priority.h"
#include "events/background_priority.h"
#include "tests/support/parked_thread.h"

namespace keyledger {
namespace {

using rocksdb::WriteStallCondition;

rocksdb::WriteStallInfo Stall(const std::string& cf, WriteStallCondition cur, WriteStallCondition prev) {
  rocksdb::WriteStallInfo info;
  info.cf_name = cf;
  info.condition.cur = cur;
  info.condition.prev = prev;
  return info;
}

rocksdb::MemTableInfo Sealed(const std::string& cf, uint64_t first_seqno) {
  rocksdb::MemTableInfo info;
  info.cf_name = cf;
  info.first_seqno = first_seqno;
  return info;
}

rocksdb::FlushJobInfo Flushed(const std::string& cf, uint64_t largest_seqno) {
  rocksdb::FlushJobInfo info;
  info.cf_name = cf;
  info.largest_seqno = largest_seqno;
  return info;
}

enum class Job { kFlush, kCompaction };

// A thread that announces itself to the listener as RocksDB's background threads do (the
// callback runs on it), then stays alive until the test ends it.
class BackgroundThread {
 public:
  BackgroundThread(BackgroundPriorityListener& listener, Job job)
      : thread_([&listener, job] {
          if (job == Job::kFlush) {
            listener.OnFlushBegin(nullptr, rocksdb::FlushJobInfo());
          } else {
            listener.OnCompactionBegin(nullptr, rocksdb::CompactionJobInfo());
          }
        }) {}
  std::optional<BackgroundPriority> priority() const { return ThreadPriority(thread_.tid()); }

 private:
  testing::ParkedThread thread_;
};

constexpr auto kIdle = BackgroundPriority::kIdle;
constexpr auto kLow = BackgroundPriority::kLow;
constexpr auto kNormal = BackgroundPriority::kNormal;

BOOST_AUTO_TEST_SUITE(background_priority)

BOOST_AUTO_TEST_CASE(background_threads_run_at_low_priority_while_a_flush_is_behind) {
  BackgroundPriorityListener listener;
  BackgroundThread flush(listener, Job::kFlush);
  BackgroundThread compaction(listener, Job::kCompaction);
  BOOST_TEST((flush.priority() == kIdle));
  BOOST_TEST((compaction.priority() == kIdle));

  listener.OnMemTableSealed(Sealed("events", 1));  // one waiting: the flush keeps up
  listener.OnMemTableSealed(Sealed("by_key", 2));   // one in another column family: still
  BOOST_TEST((flush.priority() == kIdle));
  listener.OnMemTableSealed(Sealed("events", 100));  // two waiting in one: behind
  BOOST_TEST((flush.priority() == kLow));
  BOOST_TEST((compaction.priority() == kLow));
  BackgroundThread late(listener, Job::kFlush);  // a thread starting now starts there too
  BOOST_TEST((late.priority() == kLow));
  listener.OnMemTableSealed(Sealed("events", 200));  // three: further behind, still low
  BOOST_TEST((flush.priority() == kLow));
  BOOST_TEST((late.priority() == kLow));
  listener.OnFlushCompleted(nullptr, Flushed("events", 99));  // two left
  BOOST_TEST((flush.priority() == kLow));

  listener.OnFlushCompleted(nullptr, Flushed("events", 199));  // the older one written
  BOOST_TEST((flush.priority() == kIdle));
  BOOST_TEST((late.priority() == kIdle));
  BOOST_TEST((listener.priority() == kIdle));
  listener.OnMemTableSealed(Sealed("events", 300));
  BOOST_TEST((flush.priority() == kLow));
  listener.OnFlushCompleted(nullptr, Flushed("events", 350));  // both written in one flush
  listener.OnMemTableSealed(Sealed("events", 400));
  BOOST_TEST((flush.priority() == kIdle));
}

BOOST_AUTO_TEST_CASE(background_threads_run_at_normal_priority_while_any_column_family_stalls_writes) {
  BackgroundPriorityListener listener;
  BackgroundThread compaction(listener, Job::kCompaction);
  BOOST_TEST((compaction.priority() == kIdle));

  listener.OnStallConditionsChanged(Stall("events", WriteStallCondition::kDelayed, WriteStallCondition::kNormal));
  BOOST_TEST((compaction.priority() == kNormal));
  listener.OnStallConditionsChanged(Stall("by_key", WriteStallCondition::kStopped, WriteStallCondition::kNormal));
  listener.OnStallConditionsChanged(Stall("events", WriteStallCondition::kNormal, WriteStallCondition::kDelayed));
  BOOST_TEST((compaction.priority() == kNormal));  // by_key still stalls
  listener.OnStallConditionsChanged(Stall("by_key", WriteStallCondition::kNormal, WriteStallCondition::kStopped));
  BOOST_TEST((compaction.priority() == kIdle));

  // Behind and stalling: normal until the stall ends, then low while still behind.
  listener.OnMemTableSealed(Sealed("events", 1));
  listener.OnMemTableSealed(Sealed("events", 100));
  BOOST_TEST((compaction.priority() == kLow));
  listener.OnStallConditionsChanged(Stall("events", WriteStallCondition::kDelayed, WriteStallCondition::kNormal));
  BOOST_TEST((compaction.priority() == kNormal));
  listener.OnStallConditionsChanged(Stall("events", WriteStallCondition::kNormal, WriteStallCondition::kDelayed));
  BOOST_TEST((compaction.priority() == kLow));
}

BOOST_AUTO_TEST_CASE(writes_are_paced_while_behind_and_not_while_keeping_up_or_stalled) {
  const std::shared_ptr<rocksdb::RateLimiter> pacer = BackgroundPriorityListener::NewPacer();
  BackgroundPriorityListener listener(pacer);
  const auto rate = [&] { return pacer->GetBytesPerSecond(); };
  BOOST_TEST(rate() == BackgroundPriorityListener::kUnpacedBytesPerSecond);
  BOOST_TEST(pacer->GetSingleBurstBytes() >= (int64_t{1} << 20));  // a 64 KiB write never waits

  listener.OnMemTableSealed(Sealed("events", 1));
  BOOST_TEST(!listener.paced());
  listener.OnMemTableSealed(Sealed("events", 100));  // behind: low priority, paced
  BOOST_TEST(listener.paced());
  BOOST_TEST((listener.priority() == kLow));
  BOOST_TEST(rate() == BackgroundPriorityListener::kPacedBytesPerSecond);
  // About one 64 KiB write per 1 ms refill.
  BOOST_TEST(pacer->GetSingleBurstBytes() == BackgroundPriorityListener::kPacedBytesPerSecond *
                                                 BackgroundPriorityListener::kPacerRefillMicros / 1000000);

  listener.OnMemTableSealed(Sealed("events", 200));  // further behind: catching up unpaced
  BOOST_TEST((listener.priority() == kLow));
  BOOST_TEST(!listener.paced());
  BOOST_TEST(rate() == BackgroundPriorityListener::kUnpacedBytesPerSecond);
  listener.OnFlushCompleted(nullptr, Flushed("events", 99));  // the oldest written, two left: paced
  BOOST_TEST(rate() == BackgroundPriorityListener::kPacedBytesPerSecond);

  // Stalling: catching up comes first.
  listener.OnStallConditionsChanged(Stall("by_key", WriteStallCondition::kDelayed, WriteStallCondition::kNormal));
  BOOST_TEST((listener.priority() == kNormal));
  BOOST_TEST(!listener.paced());
  BOOST_TEST(rate() == BackgroundPriorityListener::kUnpacedBytesPerSecond);
  listener.OnStallConditionsChanged(Stall("by_key", WriteStallCondition::kNormal, WriteStallCondition::kDelayed));
  BOOST_TEST(rate() == BackgroundPriorityListener::kPacedBytesPerSecond);  // still behind

  listener.OnFlushCompleted(nullptr, Flushed("events", 250));  // caught up
  BOOST_TEST((listener.priority() == kIdle));
  BOOST_TEST(rate() == BackgroundPriorityListener::kUnpacedBytesPerSecond);
}

BOOST_AUTO_TEST_CASE(a_listener_without_a_pacer_only_sets_priorities) {
  BackgroundPriorityListener listener;
  listener.OnMemTableSealed(Sealed("events", 1));
  listener.OnMemTableSealed(Sealed("events", 100));
  BOOST_TEST((listener.priority() == kLow));
  BOOST_TEST(listener.paced());  // the verdict, with nothing to apply it to
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
