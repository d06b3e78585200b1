#include "core/latency_histogram.h"

#include <algorithm>
#include <cstdio>

namespace keyledger {

void LatencyHistogram::Record(std::chrono::nanoseconds duration) {
  const int64_t ns = std::max<int64_t>(duration.count(), 0);
  // The first bucket whose bound is at or above the duration (bounds are inclusive).
  const auto us_ceil = static_cast<uint64_t>((ns + 999) / 1000);
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), us_ceil) - kBoundsUs.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
}

LatencyHistogram::Counts LatencyHistogram::Read() const {
  Counts c;
  for (size_t i = 0; i < kBuckets; ++i) {
    c.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    c.count += c.buckets[i];
  }
  c.sum_ns = sum_ns_.load(std::memory_order_relaxed);
  return c;
}

void LatencyHistogram::AppendPrometheus(std::string& out, std::string_view name, std::string_view help) const {
  const Counts c = Read();
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" histogram\n");
  uint64_t cumulative = 0;
  char number[32];
  for (size_t i = 0; i < kBuckets; ++i) {
    cumulative += c.buckets[i];
    out.append(name).append("_bucket{le=\"");
    if (i < kBoundsUs.size()) {
      std::snprintf(number, sizeof number, "%g", kBoundsUs[i] / 1e6);
      out.append(number);
    } else {
      out.append("+Inf");
    }
    out.append("\"} ").append(std::to_string(cumulative)).append("\n");
  }
  std::snprintf(number, sizeof number, "%.9f", static_cast<double>(c.sum_ns) / 1e9);
  out.append(name).append("_sum ").append(number).append("\n");
  out.append(name).append("_count ").append(std::to_string(cumulative)).append("\n");
}

}  // namespace keyledger
