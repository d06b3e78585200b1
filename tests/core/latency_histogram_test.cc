// The request-duration histogram: each duration lands in the first bucket whose bound is at or
// above it (Prometheus' `le`), the exposition is cumulative and ends with +Inf == _count, and
// threads recording at once lose nothing.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/latency_histogram.h"

namespace keyledger {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;

BOOST_AUTO_TEST_SUITE(latency_histogram)

BOOST_AUTO_TEST_CASE(durations_land_in_the_first_bucket_at_or_above_them) {
  LatencyHistogram h;
  h.Record(nanoseconds(0));           // bucket 0 (<= 50 µs)
  h.Record(microseconds(50));         // bucket 0: bounds are inclusive
  h.Record(nanoseconds(50001));       // bucket 1 (<= 100 µs)
  h.Record(microseconds(2000));       // the 2 ms bucket
  h.Record(microseconds(2001));       // the 3 ms bucket
  h.Record(std::chrono::seconds(60)); // +Inf
  h.Record(nanoseconds(-5));          // a clock that stepped back counts as 0
  const LatencyHistogram::Counts c = h.Read();
  const size_t ms2 = 8;
  BOOST_REQUIRE(LatencyHistogram::kBoundsUs[ms2] == 2000u);
  BOOST_TEST(c.buckets[0] == 3u);
  BOOST_TEST(c.buckets[1] == 1u);
  BOOST_TEST(c.buckets[ms2] == 1u);
  BOOST_TEST(c.buckets[ms2 + 1] == 1u);
  BOOST_TEST(c.buckets[LatencyHistogram::kBuckets - 1] == 1u);
  BOOST_TEST(c.count == 7u);
  BOOST_TEST(c.sum_ns == uint64_t{50000} + 50001 + 2000000 + 2001000 + 60000000000);
}

BOOST_AUTO_TEST_CASE(the_exposition_is_cumulative_and_ends_with_the_count) {
  LatencyHistogram h;
  h.Record(microseconds(40));
  h.Record(microseconds(900));
  h.Record(microseconds(900));
  std::string out;
  h.AppendPrometheus(out, "x_seconds", "Test.");
  BOOST_TEST(out.find("# HELP x_seconds Test.\n# TYPE x_seconds histogram\n") == 0u, out);
  BOOST_TEST(out.find("x_seconds_bucket{le=\"5e-05\"} 1\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_bucket{le=\"0.00075\"} 1\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_bucket{le=\"0.001\"} 3\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_bucket{le=\"10\"} 3\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_sum 0.001840000\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_count 3\n") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(threads_recording_at_once_lose_nothing) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 20000; ++i) h.Record(microseconds(100 * (t + 1)));
    });
  }
  for (std::thread& t : threads) t.join();
  const LatencyHistogram::Counts c = h.Read();
  BOOST_TEST(c.count == 80000u);
  BOOST_TEST(c.buckets[1] == 20000u);  // 100 µs
  BOOST_TEST(c.buckets[2] == 20000u);  // 200 µs
  BOOST_TEST(c.buckets[3] == 20000u);  // 300 µs
  BOOST_TEST(c.buckets[4] == 20000u);  // 400 µs, in the 500 µs bucket
  BOOST_TEST(c.sum_ns == uint64_t{20000} * (100000 + 200000 + 300000 + 400000));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
