#pragma once
// A Prometheus histogram of durations: fixed buckets from 50 µs to 10 s, counted with relaxed
// atomics so that any thread records without a lock (two atomic adds per observation).
//
//   LatencyHistogram h;
//   h.Record(std::chrono::steady_clock::now() - started);
//   h.AppendPrometheus(out, "keyledger_http_request_duration_seconds", "Time from ... .");
//
// Thread-safe.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace keyledger {

class LatencyHistogram {
 public:
  // Upper bounds (inclusive, µs) of the buckets, then the +Inf bucket. Fine around 1-3 ms, where
  // verification's latency goal lies.
  static constexpr std::array<uint32_t, 21> kBoundsUs = {
      50,    100,   200,    300,    500,    750,    1000,    1500,    2000,    3000,   5000,
      7500,  10000, 25000,  50000,  100000, 250000, 500000,  1000000, 2500000, 10000000};
  static constexpr size_t kBuckets = kBoundsUs.size() + 1;

  void Record(std::chrono::nanoseconds duration);

  struct Counts {
    std::array<uint64_t, kBuckets> buckets{};  // per bucket, not cumulative; last: +Inf
    uint64_t count = 0;
    uint64_t sum_ns = 0;
  };
  // The counts so far; under concurrent Record()s each field is a recent value, not one instant.
  Counts Read() const;

  // The HELP and TYPE lines, the cumulative `_bucket{le="..."}` lines, `_sum` (seconds) and `_count`.
  void AppendPrometheus(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> sum_ns_{0};
};

}  // namespace keyledger
