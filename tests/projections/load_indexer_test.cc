#include "projections/load_indexer.h"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <vector>

namespace keyledger {
namespace {

// Distinct, well-spread hashes for record i (as the id and digest hashes are).
uint64_t IdHashOf(uint32_t i) { return (i + 1) * 0x9E3779B97F4A7C15ull; }
uint64_t DigestHashOf(uint32_t i) { return (i + 7) * 0xC2B2AE3D27D4EB4Full; }

BOOST_AUTO_TEST_SUITE(LoadIndexerTest)

// Records handed over in several batches and a partial last one are all indexed under their own
// numbers, and only the records with a deadline are in the heap.
BOOST_AUTO_TEST_CASE(every_record_is_indexed_under_its_number) {
  const uint32_t records = 2 * LoadIndexer::kBatch + 123;
  RecordIndex by_id, by_digest;
  DeadlineQueue deadlines;
  std::vector<std::byte> spare(100000);
  {
    LoadIndexer indexer(by_id, by_digest, deadlines, records, {std::span<std::byte>(spare)});
    for (uint32_t i = 0; i < records; ++i) {
      const TimeMs deadline = i % 3 == 0 ? 0 : 1000000 - static_cast<TimeMs>(i);
      indexer.Add(IdHashOf(i), DigestHashOf(i), deadline);
    }
    indexer.Finish();
  }
  BOOST_TEST(by_id.size() == records);
  BOOST_TEST(by_digest.size() == records);
  for (uint32_t i = 0; i < records; ++i) {
    BOOST_TEST_REQUIRE(by_id.Find(IdHashOf(i), [&](uint32_t n) { return n == i; }) == i);
    BOOST_TEST_REQUIRE(by_digest.Find(DigestHashOf(i), [&](uint32_t n) { return n == i; }) == i);
  }
  BOOST_TEST(deadlines.size() == records - (records + 2) / 3);
  BOOST_TEST(deadlines.Earliest() == 1000000 - static_cast<TimeMs>(records - 1));
  auto all = [](const DeadlineQueue::Entry&) { return true; };
  const std::vector<KeyIndex> due = deadlines.Due(1000000, 3, all);
  BOOST_TEST(due == (std::vector<KeyIndex>{records - 1, records - 3, records - 4}), "latest records end first");
}

// A decode that fails half-way destroys the indexer unfinished: its thread stops, whether it is
// waiting for a batch or has batches still queued.
BOOST_AUTO_TEST_CASE(an_unfinished_indexer_stops_its_thread) {
  for (uint32_t added : {0u, 5u, static_cast<uint32_t>(3 * LoadIndexer::kBatch)}) {
    RecordIndex by_id, by_digest;
    DeadlineQueue deadlines;
    {
      LoadIndexer indexer(by_id, by_digest, deadlines, 4 * LoadIndexer::kBatch, {});
      for (uint32_t i = 0; i < added; ++i) indexer.Add(IdHashOf(i), DigestHashOf(i), 0);
    }
    BOOST_TEST(by_id.size() <= added);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
