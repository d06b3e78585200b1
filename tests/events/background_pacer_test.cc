// BackgroundPacer: writes go through the pace and reads do not; a thread rests once it has used its
// CPU slice since its last rest, counted in CPU time, not wall time.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <thread>

#include "core/thread_priority.h"
#include "events/background_pacer.h"

namespace keyledger {
namespace {

using OpType = rocksdb::RateLimiter::OpType;

// Keeps the calling thread on the CPU for `cpu` of its own CPU time.
void Burn(std::chrono::nanoseconds cpu) {
  const std::chrono::nanoseconds until = ThisThreadCpuTime() + cpu;
  volatile uint64_t spin = 0;
  while (ThisThreadCpuTime() < until) spin = spin + 1;
}

// A compaction's read and a flush's write, as RocksDB asks for them.
void Read(BackgroundPacer& pacer) { pacer.Request(4096, rocksdb::Env::IO_LOW, nullptr, OpType::kRead); }
void Write(BackgroundPacer& pacer) { pacer.Request(4096, rocksdb::Env::IO_HIGH, nullptr, OpType::kWrite); }

// Runs `body` on a thread of its own: the slice is counted per thread, from its first request.
template <class Body>
void OnFreshThread(Body body) {
  std::thread thread(body);
  thread.join();
}

BOOST_AUTO_TEST_SUITE(background_pacer)

BOOST_AUTO_TEST_CASE(rocksdb_asks_it_about_reads_and_writes) {
  BackgroundPacer pacer(int64_t{64} << 20, 1000);
  BOOST_TEST(pacer.IsRateLimited(OpType::kRead));
  BOOST_TEST(pacer.IsRateLimited(OpType::kWrite));
}

BOOST_AUTO_TEST_CASE(only_writes_spend_the_pace) {
  BackgroundPacer pacer(int64_t{64} << 20, 1000);
  for (int i = 0; i < 10; ++i) Read(pacer);
  BOOST_TEST(pacer.GetTotalBytesThrough(rocksdb::Env::IO_TOTAL) == 0);
  BOOST_TEST(pacer.GetTotalRequests(rocksdb::Env::IO_TOTAL) == 0);
  for (int i = 0; i < 3; ++i) Write(pacer);
  pacer.Request(4096, rocksdb::Env::IO_LOW, nullptr);  // RocksDB's older overload: a write
  BOOST_TEST(pacer.GetTotalBytesThrough(rocksdb::Env::IO_TOTAL) == 4 * 4096);
  BOOST_TEST(pacer.GetTotalRequests(rocksdb::Env::IO_TOTAL) == 4);
}

BOOST_AUTO_TEST_CASE(the_rate_is_the_paced_writers) {
  BackgroundPacer pacer(int64_t{4} << 30, 1000);
  pacer.SetBytesPerSecond(int64_t{64} << 20);
  BOOST_TEST(pacer.GetBytesPerSecond() == (int64_t{64} << 20));
  BOOST_TEST(pacer.GetSingleBurstBytes() == (int64_t{64} << 20) / 1000);
}

BOOST_AUTO_TEST_CASE(a_thread_rests_once_it_has_used_its_slice) {
  BackgroundPacer pacer(int64_t{4} << 30, 1000);
  OnFreshThread([&] {
    Read(pacer);  // the slice starts
    Burn(BackgroundPacer::kSlice / 2);
    Read(pacer);
    BOOST_TEST(pacer.rests() == 0u);
    Burn(BackgroundPacer::kSlice);
    Write(pacer);
    BOOST_TEST(pacer.rests() == 1u);
    Write(pacer);  // a new slice
    BOOST_TEST(pacer.rests() == 1u);
    Burn(2 * BackgroundPacer::kSlice);
    Read(pacer);
    BOOST_TEST(pacer.rests() == 2u);
  });
}

BOOST_AUTO_TEST_CASE(time_off_the_cpu_is_not_counted) {
  BackgroundPacer pacer(int64_t{4} << 30, 1000);
  OnFreshThread([&] {
    Read(pacer);
    // Waiting (for the disk, the pace or anything else) uses no CPU: no rest is due after it.
    std::this_thread::sleep_for(4 * BackgroundPacer::kSlice);
    Read(pacer);
    BOOST_TEST(pacer.rests() == 0u);
  });
}

BOOST_AUTO_TEST_CASE(each_thread_has_its_own_slice) {
  BackgroundPacer pacer(int64_t{4} << 30, 1000);
  OnFreshThread([&] {
    Read(pacer);
    Burn(2 * BackgroundPacer::kSlice);
  });
  // Another thread's CPU does not make this one rest.
  OnFreshThread([&] { Read(pacer); });
  BOOST_TEST(pacer.rests() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
