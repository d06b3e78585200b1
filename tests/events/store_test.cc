#include <boost/test/unit_test.hpp>

#include "events/store.h"

#include <rocksdb/db.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "events/prezeroed_wal_file_system.h"
#include "tests/events/temp_dir.h"
#include "tests/events/wait_for.h"

namespace keyledger {
namespace {

using namespace std::string_literals;
using Rows = std::vector<std::pair<std::string, std::string>>;

std::unique_ptr<EventStore> OpenStore(const std::string& dir, bool read_only = false) {
  StoreOptions options;
  options.read_only = read_only;
  options.block_cache_bytes = 1 << 20;
  auto store = EventStore::Open(dir, options);
  BOOST_TEST_REQUIRE(store.ok(), store.status().message());
  return std::move(*store);
}

std::string ValueFor(uint64_t seq) { return "event\0#"s + std::to_string(seq); }

// Writes one events row per seq, all in one batch.
Status WriteEvents(EventStore& store, const std::vector<uint64_t>& seqs, bool sync = false) {
  rocksdb::WriteBatch batch;
  for (uint64_t seq : seqs) {
    if (!batch.Put(store.cf(Cf::kEvents), EncodeSeq(seq), ValueFor(seq)).ok()) {
      return Status::Internal("batch put");
    }
  }
  return store.Write(batch, sync);
}

std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

Rows ScanAll(const EventStore& store, Cf which, std::string_view from = {},
             std::string_view to = {}, bool reverse = false) {
  Rows rows;
  auto collect = [&](std::string_view k, std::string_view v) {
    rows.emplace_back(std::string(k), std::string(v));
    return true;
  };
  Status s =
      reverse ? store.ScanReverse(which, from, to, collect) : store.Scan(which, from, to, collect);
  BOOST_TEST(s.ok(), s.message());
  return rows;
}

std::vector<uint64_t> Seqs(const Rows& rows) {
  std::vector<uint64_t> out;
  for (const auto& [k, v] : rows) {
    BOOST_TEST(k.size() == 8u);
    out.push_back(DecodeSeq(k));
  }
  return out;
}

constexpr std::string_view kAbsent = "<absent>";

// The value under `key`, or kAbsent.
std::string ValueAt(const EventStore& store, Cf which, std::string_view key) {
  auto r = store.Get(which, key);
  BOOST_TEST_REQUIRE(r.ok(), r.status().message());
  return r->has_value() ? **r : std::string(kAbsent);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(StoreTest)

BOOST_AUTO_TEST_CASE(SeqEncodingIsEightBytesBigEndian) {
  BOOST_TEST(EncodeSeq(0) == std::string(8, '\0'));
  BOOST_TEST(EncodeSeq(1) == "\0\0\0\0\0\0\0\x01"s);
  BOOST_TEST(EncodeSeq(256) == "\0\0\0\0\0\0\x01\0"s);
  BOOST_TEST(EncodeSeq(0x0102030405060708) == "\x01\x02\x03\x04\x05\x06\x07\x08"s);
  BOOST_TEST(EncodeSeq(UINT64_MAX) == std::string(8, '\xFF'));
  for (uint64_t seq :
       {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{65535}, uint64_t{1} << 32,
        uint64_t{0x8000000000000000}, UINT64_MAX - 1, UINT64_MAX}) {
    BOOST_TEST(EncodeSeq(seq).size() == 8u);
    BOOST_TEST(DecodeSeq(EncodeSeq(seq)) == seq);
  }
  // Only the first 8 bytes count: index keys put the seq before other bytes.
  BOOST_TEST(DecodeSeq(EncodeSeq(77) + "tail") == 77u);
}

BOOST_AUTO_TEST_CASE(SeqEncodingSortsBytewiseInNumericOrder) {
  const std::vector<std::pair<uint64_t, uint64_t>> pairs = {
      {0, 1},
      {1, 2},
      {127, 128},
      {255, 256},
      {256, 257},
      {511, 512},
      {65535, 65536},
      {(1ull << 32) - 1, 1ull << 32},
      {(1ull << 56) - 1, 1ull << 56},
      {0x7FFFFFFFFFFFFFFF, 0x8000000000000000},
      {UINT64_MAX - 1, UINT64_MAX}};
  for (const auto& [lo, hi] : pairs) {
    // std::string compares as unsigned bytes, like RocksDB's bytewise comparator.
    BOOST_TEST((EncodeSeq(lo) < EncodeSeq(hi)), lo << " < " << hi);
    BOOST_TEST(EncodeSeq(lo).compare(EncodeSeq(hi)) < 0);
  }
}

BOOST_AUTO_TEST_CASE(OpenCreatesTheColumnFamilies) {
  TempDir tmp;
  const std::string dir = tmp.Sub("db");
  {
    auto store = OpenStore(dir);
    const std::vector<std::pair<Cf, std::string>> expected = {{Cf::kEvents, "events"},
                                                              {Cf::kByWorkspace, "by_workspace"},
                                                              {Cf::kByKey, "by_key"},
                                                              {Cf::kIdempotency, "idempotency"},
                                                              {Cf::kMeta, "meta"}};
    for (const auto& [which, name] : expected) {
      BOOST_TEST_REQUIRE(store->cf(which) != nullptr);
      BOOST_TEST(store->cf(which)->GetName() == name);
    }
    BOOST_TEST(store->dir() == dir);
  }
  std::vector<std::string> families;
  BOOST_TEST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &families).ok());
  std::sort(families.begin(), families.end());
  BOOST_TEST(families == (std::vector<std::string>{"by_key", "by_workspace", "default", "events",
                                                   "idempotency", "meta"}));
}

BOOST_AUTO_TEST_CASE(OpenWithoutCreateOnAMissingDirectoryFails) {
  TempDir tmp;
  StoreOptions options;
  options.create_if_missing = false;
  BOOST_TEST(!EventStore::Open(tmp.Sub("missing"), options).ok());
  options.read_only = true;
  options.create_if_missing = true;  // read-only never creates
  BOOST_TEST(!EventStore::Open(tmp.Sub("missing"), options).ok());
  BOOST_TEST(!std::filesystem::exists(tmp.Sub("missing") + "/CURRENT"));
}

BOOST_AUTO_TEST_CASE(WriteThenGetInEachColumnFamily) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  BOOST_TEST(ValueAt(*store, Cf::kEvents, EncodeSeq(1)) == kAbsent);

  rocksdb::WriteBatch batch;
  const std::string binary = "\0\xFF\x01value"s;
  BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kEvents), EncodeSeq(1), ValueFor(1)).ok());
  BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kByWorkspace), "acme\0"s + EncodeSeq(1), "\x02").ok());
  BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kByKey), "key_1\0"s + EncodeSeq(1), "\x02").ok());
  BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kIdempotency), "acme\0idem"s, binary).ok());
  BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kMeta), "checkpoint", "").ok());
  BOOST_TEST_REQUIRE(store->Write(batch, true).ok());

  BOOST_TEST(ValueAt(*store, Cf::kEvents, EncodeSeq(1)) == ValueFor(1));
  BOOST_TEST(ValueAt(*store, Cf::kByWorkspace, "acme\0"s + EncodeSeq(1)) == "\x02");
  BOOST_TEST(ValueAt(*store, Cf::kByKey, "key_1\0"s + EncodeSeq(1)) == "\x02");
  BOOST_TEST(ValueAt(*store, Cf::kIdempotency, "acme\0idem"s) == binary);
  // Present but empty is not absent.
  BOOST_TEST(ValueAt(*store, Cf::kMeta, "checkpoint") == "");
  // Column families are separate key spaces.
  BOOST_TEST(ValueAt(*store, Cf::kMeta, EncodeSeq(1)) == kAbsent);
  BOOST_TEST(ValueAt(*store, Cf::kEvents, "checkpoint") == kAbsent);
  BOOST_TEST(ValueAt(*store, Cf::kIdempotency, "acme"s) == kAbsent);

  // Deletes in a later batch.
  rocksdb::WriteBatch del;
  BOOST_TEST_REQUIRE(del.Delete(store->cf(Cf::kIdempotency), "acme\0idem"s).ok());
  BOOST_TEST_REQUIRE(store->Write(del, false).ok());
  BOOST_TEST(ValueAt(*store, Cf::kIdempotency, "acme\0idem"s) == kAbsent);
  BOOST_TEST(store->sticky_error().ok());
}

// Five flushed memtables are more level-0 files than RocksDB lets stand (4): a compaction follows.
// WaitForCompactions returns once it is done, with every row still there.
BOOST_AUTO_TEST_CASE(WaitForCompactionsReturnsOnceTheyAreDone) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    rocksdb::WriteBatch batch;
    BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kEvents), EncodeSeq(seq), ValueFor(seq)).ok());
    BOOST_TEST_REQUIRE(store->Write(batch, false).ok());
    BOOST_TEST_REQUIRE(store->Flush().ok());
  }
  const Status waited = store->WaitForCompactions(120000);
  BOOST_TEST(waited.ok(), waited.message());
  for (uint64_t seq = 1; seq <= 5; ++seq) BOOST_TEST(ValueAt(*store, Cf::kEvents, EncodeSeq(seq)) == ValueFor(seq));
  store.reset();
  BOOST_TEST(OpenStore(tmp.Sub("db"), /*read_only=*/true)->WaitForCompactions(0).ok());
}

// A flush writes the memtable uncompressed (levels 0 and 1 are; compression starts at level 2),
// so that it costs the request core no compression.
BOOST_AUTO_TEST_CASE(FlushedTablesAreUncompressed) {
  TempDir tmp;
  const std::string dir = tmp.Sub("db");
  {
    auto store = OpenStore(dir);
    BOOST_TEST_REQUIRE(WriteEvents(*store, Range(1, 1000)).ok());
    rocksdb::WriteBatch batch;
    BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kByKey), "key_x\0"s + EncodeSeq(1), "u").ok());
    BOOST_TEST_REQUIRE(store->Write(batch, false).ok());
    BOOST_TEST_REQUIRE(store->Flush().ok());
  }
  std::vector<std::string> names;
  BOOST_TEST_REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  BOOST_TEST_REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, descriptors, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  size_t tables = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != "events" && names[i] != "by_key") continue;
    rocksdb::TablePropertiesCollection properties;
    BOOST_TEST_REQUIRE(db->GetPropertiesOfAllTables(handles[i], &properties).ok());
    for (const auto& [file, table] : properties) {
      ++tables;
      BOOST_TEST(table->compression_name == "NoCompression", names[i] << " " << file);
    }
  }
  BOOST_TEST(tables == 2u);
  for (auto* h : handles) BOOST_TEST(db->DestroyColumnFamilyHandle(h).ok());
}

BOOST_AUTO_TEST_CASE(LastEventOnEmptyAndNonEmptyLog) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  auto empty = store->LastEvent();
  BOOST_TEST_REQUIRE(empty.ok(), empty.status().message());
  BOOST_TEST(empty->first == 0u);
  BOOST_TEST(empty->second.empty());

  // Rows in other families are not events.
  rocksdb::WriteBatch meta;
  BOOST_TEST_REQUIRE(meta.Put(store->cf(Cf::kMeta), std::string(8, '\xFF'), "x").ok());
  BOOST_TEST_REQUIRE(store->Write(meta, false).ok());
  BOOST_TEST(store->LastEvent()->first == 0u);

  std::vector<uint64_t> seqs = Range(1, 300);  // crosses 255 → 256
  std::shuffle(seqs.begin(), seqs.end(), std::mt19937(7));
  BOOST_TEST_REQUIRE(WriteEvents(*store, {seqs.begin(), seqs.begin() + 150}).ok());
  BOOST_TEST_REQUIRE(WriteEvents(*store, {seqs.begin() + 150, seqs.end()}).ok());
  auto last = store->LastEvent();
  BOOST_TEST_REQUIRE(last.ok());
  BOOST_TEST(last->first == 300u);
  BOOST_TEST(last->second == ValueFor(300));

  BOOST_TEST_REQUIRE(WriteEvents(*store, {1000}).ok());
  BOOST_TEST(store->LastEvent()->first == 1000u);
}

BOOST_AUTO_TEST_CASE(ScanVisitsKeysInNumericOrder) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  std::vector<uint64_t> seqs = Range(1, 600);
  std::shuffle(seqs.begin(), seqs.end(), std::mt19937(11));
  for (size_t i = 0; i < seqs.size(); i += 50) {
    BOOST_TEST_REQUIRE(WriteEvents(*store, {seqs.begin() + i, seqs.begin() + i + 50}).ok());
    if (i == 300) BOOST_TEST_REQUIRE(store->Flush().ok());  // some in SST files, some in memory
  }
  const Rows rows = ScanAll(*store, Cf::kEvents);
  BOOST_TEST(Seqs(rows) == Range(1, 600));
  for (const auto& [k, v] : rows) BOOST_TEST(v == ValueFor(DecodeSeq(k)));

  std::vector<uint64_t> down = Range(1, 600);
  std::reverse(down.begin(), down.end());
  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents, {}, {}, true)) == down);
}

BOOST_AUTO_TEST_CASE(ScanBoundsAreFromInclusiveToExclusive) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  BOOST_TEST_REQUIRE(WriteEvents(*store, Range(1, 10)).ok());
  BOOST_TEST_REQUIRE(WriteEvents(*store, {255, 256, 257}).ok());
  const std::string s3 = EncodeSeq(3), s7 = EncodeSeq(7);

  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents, s3, s7)) == (std::vector<uint64_t>{3, 4, 5, 6}));
  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents, s3, s7, true)) ==
             (std::vector<uint64_t>{6, 5, 4, 3}));
  // Empty `to`: no upper bound; empty `from`: from the start.
  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents, EncodeSeq(9))) ==
             (std::vector<uint64_t>{9, 10, 255, 256, 257}));
  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents, EncodeSeq(9), {}, true)) ==
             (std::vector<uint64_t>{257, 256, 255, 10, 9}));
  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents, {}, s3)) == (std::vector<uint64_t>{1, 2}));
  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents, {}, s3, true)) == (std::vector<uint64_t>{2, 1}));
  // Bounds between keys, across the 255/256 byte boundary.
  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents, EncodeSeq(11), EncodeSeq(256))) ==
             (std::vector<uint64_t>{255}));
  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents, EncodeSeq(200), EncodeSeq(300), true)) ==
             (std::vector<uint64_t>{257, 256, 255}));
  // Empty ranges.
  BOOST_TEST(ScanAll(*store, Cf::kEvents, s7, s7).empty());
  BOOST_TEST(ScanAll(*store, Cf::kEvents, s7, s7, true).empty());
  BOOST_TEST(ScanAll(*store, Cf::kEvents, EncodeSeq(11), EncodeSeq(255), true).empty());
  BOOST_TEST(ScanAll(*store, Cf::kEvents, EncodeSeq(1000)).empty());
  BOOST_TEST(ScanAll(*store, Cf::kEvents, EncodeSeq(1000), {}, true).empty());
  BOOST_TEST(ScanAll(*store, Cf::kMeta).empty());
}

BOOST_AUTO_TEST_CASE(ScanWithPrefixBoundsStaysInsideThePrefix) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  rocksdb::WriteBatch batch;
  for (const std::string ws : {"acme", "acme2", "acm", "b"}) {
    for (uint64_t seq : {1, 5, 300}) {
      BOOST_TEST_REQUIRE(
          batch.Put(store->cf(Cf::kByWorkspace), ws + '\0' + EncodeSeq(seq), ws).ok());
    }
  }
  BOOST_TEST_REQUIRE(store->Write(batch, false).ok());
  const std::string from = "acme\0"s, to = "acme\x01"s;
  for (bool reverse : {false, true}) {
    const Rows rows = ScanAll(*store, Cf::kByWorkspace, from, to, reverse);
    std::vector<uint64_t> seqs;
    for (const auto& [k, v] : rows) {
      BOOST_TEST(k.substr(0, 5) == from);
      BOOST_TEST(v == "acme");
      seqs.push_back(DecodeSeq(std::string_view(k).substr(5)));
    }
    BOOST_TEST(seqs ==
               (reverse ? std::vector<uint64_t>{300, 5, 1} : std::vector<uint64_t>{1, 5, 300}));
  }
}

BOOST_AUTO_TEST_CASE(ScanBySeqMergesRangesInSeqOrder) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  rocksdb::WriteBatch batch;
  // Two key ranges of one owner with interleaved seqs, and other owners' rows around them.
  for (uint64_t seq : {1, 4, 5, 300}) BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kByWorkspace), "acme\0"s + EncodeSeq(seq), "L").ok());
  for (uint64_t seq : {2, 3, 6, 256, 301}) BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kByWorkspace), "acme\1"s + EncodeSeq(seq), "U").ok());
  for (uint64_t seq : {7, 8}) {
    for (const std::string& neighbour : {"acme2\0"s, "acm\1"s, "acme0\1"s}) {
      BOOST_TEST_REQUIRE(batch.Put(store->cf(Cf::kByWorkspace), neighbour + EncodeSeq(seq), "N").ok());
    }
  }
  BOOST_TEST_REQUIRE(store->Write(batch, false).ok());
  const std::string l0 = "acme\0"s + EncodeSeq(0), l1 = "acme\0"s + EncodeSeq(UINT64_MAX);
  const std::string u0 = "acme\1"s + EncodeSeq(0), u1 = "acme\1"s + EncodeSeq(UINT64_MAX);
  const auto scan = [&](std::vector<EventStore::KeyRange> ranges, bool reverse, size_t stop_after = 100) {
    std::vector<std::string> seen;
    Status s = store->ScanBySeq(Cf::kByWorkspace, ranges, reverse, [&](std::string_view k, std::string_view v) {
      seen.push_back(std::string(v) + std::to_string(DecodeSeq(k.substr(k.size() - 8))));
      return seen.size() < stop_after;
    });
    BOOST_TEST(s.ok(), s.message());
    return seen;
  };
  using Seen = std::vector<std::string>;
  BOOST_TEST(scan({{l0, l1}, {u0, u1}}, false) == (Seen{"L1", "U2", "U3", "L4", "L5", "U6", "U256", "L300", "U301"}));
  BOOST_TEST(scan({{u0, u1}, {l0, l1}}, true) == (Seen{"U301", "L300", "U256", "U6", "L5", "L4", "U3", "U2", "L1"}));
  BOOST_TEST(scan({{l0, l1}, {u0, u1}}, true, 3) == (Seen{"U301", "L300", "U256"}));
  BOOST_TEST(scan({{l0, l1}, {u0, u1}}, false, 1) == (Seen{"L1"}));
  // Bounds inside the ranges, as a cursor sets them: [4, 256).
  const std::string l4 = "acme\0"s + EncodeSeq(4), l256 = "acme\0"s + EncodeSeq(256);
  const std::string u4 = "acme\1"s + EncodeSeq(4), u256 = "acme\1"s + EncodeSeq(256);
  BOOST_TEST(scan({{l4, l256}, {u4, u256}}, false) == (Seen{"L4", "L5", "U6"}));
  BOOST_TEST(scan({{l4, l256}, {u4, u256}}, true) == (Seen{"U6", "L5", "L4"}));
  // One range alone, an empty one beside it, none at all.
  BOOST_TEST(scan({{u0, u1}}, false) == (Seen{"U2", "U3", "U6", "U256", "U301"}));
  BOOST_TEST(scan({{l0, l1}, {u1, u1}}, true) == (Seen{"L300", "L5", "L4", "L1"}));
  BOOST_TEST(scan({}, false).empty());
}

BOOST_AUTO_TEST_CASE(ScanStopsWhenTheCallbackReturnsFalse) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  BOOST_TEST_REQUIRE(WriteEvents(*store, Range(1, 20)).ok());
  for (bool reverse : {false, true}) {
    std::vector<uint64_t> seen;
    auto take3 = [&](std::string_view k, std::string_view) {
      seen.push_back(DecodeSeq(k));
      return seen.size() < 3;
    };
    Status s = reverse ? store->ScanReverse(Cf::kEvents, EncodeSeq(5), EncodeSeq(15), take3)
                       : store->Scan(Cf::kEvents, EncodeSeq(5), EncodeSeq(15), take3);
    BOOST_TEST(s.ok());
    BOOST_TEST(seen ==
               (reverse ? std::vector<uint64_t>{14, 13, 12} : std::vector<uint64_t>{5, 6, 7}));

    int calls = 0;
    s = reverse
            ? store->ScanReverse(Cf::kEvents, {}, {}, [&](auto, auto) { return ++calls, false; })
            : store->Scan(Cf::kEvents, {}, {}, [&](auto, auto) { return ++calls, false; });
    BOOST_TEST(s.ok());
    BOOST_TEST(calls == 1);
  }
}

// A bulk scan (replay, verify-log) reads ahead and bypasses the block cache, but sees exactly the
// rows a plain scan sees, from memtables and flushed files alike, bounds and early stop included.
BOOST_AUTO_TEST_CASE(BulkScanSeesWhatAPlainScanSees) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  BOOST_TEST_REQUIRE(WriteEvents(*store, Range(1, 500)).ok());
  BOOST_TEST_REQUIRE(store->Flush().ok());
  BOOST_TEST_REQUIRE(WriteEvents(*store, Range(501, 600)).ok());  // still in the memtable
  auto collect = [&](bool bulk, std::string_view from, std::string_view to, size_t stop_after) {
    std::vector<std::pair<uint64_t, std::string>> rows;
    auto fn = [&](std::string_view k, std::string_view v) {
      rows.emplace_back(DecodeSeq(k), std::string(v));
      return rows.size() < stop_after;
    };
    Status s = bulk ? store->ScanBulk(Cf::kEvents, from, to, fn) : store->Scan(Cf::kEvents, from, to, fn);
    BOOST_TEST(s.ok());
    return rows;
  };
  const auto all = collect(true, {}, {}, SIZE_MAX);
  BOOST_TEST(all.size() == 600u);
  BOOST_TEST((all == collect(false, {}, {}, SIZE_MAX)));
  const std::string from = EncodeSeq(490), to = EncodeSeq(520);
  const auto middle = collect(true, from, to, SIZE_MAX);
  BOOST_TEST(middle.size() == 30u);
  BOOST_TEST(middle.front().first == 490u);
  BOOST_TEST((middle == collect(false, from, to, SIZE_MAX)));
  BOOST_TEST(collect(true, from, to, 4).size() == 4u);
}

BOOST_AUTO_TEST_CASE(ReopenAfterCloseKeepsData) {
  TempDir tmp;
  const std::string dir = tmp.Sub("db");
  {
    auto store = OpenStore(dir);
    BOOST_TEST_REQUIRE(WriteEvents(*store, Range(1, 100), true).ok());
    BOOST_TEST_REQUIRE(store->Flush().ok());
    // Written to the WAL only, never flushed to a table file.
    BOOST_TEST_REQUIRE(WriteEvents(*store, Range(101, 150), false).ok());
  }
  {
    auto store = OpenStore(dir);
    BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents)) == Range(1, 150));
    BOOST_TEST(store->LastEvent()->first == 150u);
    BOOST_TEST(ValueAt(*store, Cf::kEvents, EncodeSeq(150)) == ValueFor(150));
    BOOST_TEST_REQUIRE(WriteEvents(*store, {151}).ok());
  }
  auto store = OpenStore(dir);
  BOOST_TEST(store->LastEvent()->first == 151u);
}

BOOST_AUTO_TEST_CASE(ReadOnlyOpenSeesDataAndRefusesWrites) {
  TempDir tmp;
  const std::string dir = tmp.Sub("db");
  {
    auto store = OpenStore(dir);
    BOOST_TEST_REQUIRE(WriteEvents(*store, Range(1, 30)).ok());
  }
  auto ro = OpenStore(dir, /*read_only=*/true);
  BOOST_TEST(Seqs(ScanAll(*ro, Cf::kEvents)) == Range(1, 30));
  BOOST_TEST(ro->LastEvent()->first == 30u);
  BOOST_TEST(ValueAt(*ro, Cf::kEvents, EncodeSeq(30)) == ValueFor(30));

  rocksdb::WriteBatch batch;
  BOOST_TEST_REQUIRE(batch.Put(ro->cf(Cf::kEvents), EncodeSeq(31), "x").ok());
  const Status s = ro->Write(batch, true);
  BOOST_TEST(!s.ok());
  BOOST_TEST((s.code() == StatusCode::kUnavailable));
  BOOST_TEST(ValueAt(*ro, Cf::kEvents, EncodeSeq(31)) == kAbsent);
  BOOST_TEST(ro->Flush().ok());
  ro.reset();

  // The refused write left nothing behind for the next writer either.
  auto rw = OpenStore(dir);
  BOOST_TEST(rw->LastEvent()->first == 30u);
}

BOOST_AUTO_TEST_CASE(ReadOnlyOpensWhileTheWriterHasTheStoreOpen) {
  TempDir tmp;
  const std::string dir = tmp.Sub("db");
  auto rw = OpenStore(dir);
  BOOST_TEST_REQUIRE(WriteEvents(*rw, Range(1, 40), true).ok());
  BOOST_TEST_REQUIRE(rw->Flush().ok());
  BOOST_TEST_REQUIRE(WriteEvents(*rw, Range(41, 50), true).ok());  // in the WAL only

  auto ro1 = OpenStore(dir, true);
  auto ro2 = OpenStore(dir, true);
  BOOST_TEST(Seqs(ScanAll(*ro1, Cf::kEvents)) == Range(1, 50));
  BOOST_TEST(ro2->LastEvent()->first == 50u);

  // A second writer is refused (RocksDB's lock), without disturbing the first.
  StoreOptions options;
  BOOST_TEST(!EventStore::Open(dir, options).ok());
  BOOST_TEST_REQUIRE(WriteEvents(*rw, {51}).ok());
  BOOST_TEST(rw->LastEvent()->first == 51u);
  // A read-only store is a snapshot of when it opened.
  BOOST_TEST(ro1->LastEvent()->first == 50u);
  ro1.reset();
  ro2.reset();
  BOOST_TEST_REQUIRE(WriteEvents(*rw, {52}).ok());
  BOOST_TEST(OpenStore(dir, true)->LastEvent()->first == 52u);
}

BOOST_AUTO_TEST_CASE(WriteFailureIsSticky) {
  TempDir tmp;
  const std::string dir = tmp.Sub("db");
  {
    auto store = OpenStore(dir);
    BOOST_TEST_REQUIRE(WriteEvents(*store, {1}).ok());
    BOOST_TEST(store->sticky_error().ok());

    store->InjectWriteFailureForTesting(true);
    Status failed = WriteEvents(*store, {2}, true);
    BOOST_TEST(!failed.ok());
    BOOST_TEST((failed.code() == StatusCode::kUnavailable));
    BOOST_TEST(!store->sticky_error().ok());
    BOOST_TEST((store->sticky_error().code() == StatusCode::kUnavailable));
    BOOST_TEST(ValueAt(*store, Cf::kEvents, EncodeSeq(2)) == kAbsent);

    store->InjectWriteFailureForTesting(false);
    for (bool sync : {false, true}) {
      Status again = WriteEvents(*store, {3}, sync);
      BOOST_TEST(!again.ok());
      BOOST_TEST((again.code() == StatusCode::kUnavailable));
    }
    rocksdb::WriteBatch meta;
    BOOST_TEST_REQUIRE(meta.Put(store->cf(Cf::kMeta), "m", "v").ok());
    BOOST_TEST((store->Write(meta, false).code() == StatusCode::kUnavailable));
    BOOST_TEST(ValueAt(*store, Cf::kEvents, EncodeSeq(3)) == kAbsent);
    BOOST_TEST(ValueAt(*store, Cf::kMeta, "m") == kAbsent);
    BOOST_TEST(!store->sticky_error().ok());
    // Reads still work.
    BOOST_TEST(store->LastEvent()->first == 1u);
  }
  // A restart clears it: the error belongs to the process, not the data.
  auto store = OpenStore(dir);
  BOOST_TEST(store->sticky_error().ok());
  BOOST_TEST(Seqs(ScanAll(*store, Cf::kEvents)) == (std::vector<uint64_t>{1}));
  BOOST_TEST(WriteEvents(*store, {2}).ok());
}

BOOST_AUTO_TEST_CASE(CheckpointCopyOpensWithTheSameEvents) {
  TempDir tmp;
  auto store = OpenStore(tmp.Sub("db"));
  BOOST_TEST_REQUIRE(WriteEvents(*store, Range(1, 200), true).ok());
  BOOST_TEST_REQUIRE(store->Flush().ok());
  BOOST_TEST_REQUIRE(WriteEvents(*store, Range(201, 260), false).ok());  // memtable and WAL only
  rocksdb::WriteBatch meta;
  BOOST_TEST_REQUIRE(meta.Put(store->cf(Cf::kMeta), "checkpoint", "state").ok());
  BOOST_TEST_REQUIRE(store->Write(meta, false).ok());
  const Rows before = ScanAll(*store, Cf::kEvents);

  const std::string backup = tmp.Sub("backup");
  const Status s = store->CreateCheckpointCopy(backup);
  BOOST_TEST_REQUIRE(s.ok(), s.message());
  // Later writes to the original do not reach the copy.
  BOOST_TEST_REQUIRE(WriteEvents(*store, {261}).ok());

  {
    auto copy = OpenStore(backup, /*read_only=*/true);
    BOOST_TEST((ScanAll(*copy, Cf::kEvents) == before));
    BOOST_TEST(copy->LastEvent()->first == 260u);
    BOOST_TEST(ValueAt(*copy, Cf::kMeta, "checkpoint") == "state");
  }
  auto copy = OpenStore(backup);
  BOOST_TEST((ScanAll(*copy, Cf::kEvents) == before));
  BOOST_TEST(WriteEvents(*copy, {261}).ok());

  // The target must be new: an existing directory is refused, not overwritten.
  BOOST_TEST(!store->CreateCheckpointCopy(backup).ok());
}

// The WAL is filled with zeros ahead of its writer (events/prezeroed_wal_file_system.h). A crash
// leaves them past its last record; recovery must replay every record before them and report no
// corruption. The crash is a copy of the files taken while the store is open and written to.
BOOST_AUTO_TEST_CASE(AWalEndingInZerosAfterACrashReplaysEveryWrite) {
  TempDir tmp;
  const std::string dir = tmp.Sub("db"), crashed = tmp.Sub("crashed");
  auto store = OpenStore(dir);
  for (uint64_t seq = 1; seq <= 300; ++seq) BOOST_TEST_REQUIRE(WriteEvents(*store, {seq}, true).ok());
  std::string wal;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") wal = entry.path().filename();
  }
  BOOST_TEST_REQUIRE(!wal.empty());
  // The zeros past the records.
  const std::string wal_path = dir + "/" + wal;
  BOOST_TEST_REQUIRE(
      WaitFor([&] { return std::filesystem::file_size(wal_path) >= PrezeroedWalFileSystem::kAhead; }));
  std::filesystem::copy(dir, crashed);
  const Rows before = ScanAll(*store, Cf::kEvents);
  store.reset();

  auto recovered = OpenStore(crashed);
  BOOST_TEST((ScanAll(*recovered, Cf::kEvents) == before));
  BOOST_TEST(recovered->LastEvent()->first == 300u);
  BOOST_TEST(WriteEvents(*recovered, {301}, true).ok());
  recovered.reset();
  BOOST_TEST(OpenStore(crashed)->LastEvent()->first == 301u);
}

// Starting the WAL's writeback early (the appender does before an fsync it overlaps with work)
// changes nothing that is written: writes before and after it, then one fsync, all survive a
// crash image; a store opened read-only, or with no WAL yet, takes the call and does nothing.
BOOST_AUTO_TEST_CASE(StartingTheWalWritebackEarlyKeepsEveryWrite) {
  TempDir tmp;
  const std::string dir = tmp.Sub("db"), crashed = tmp.Sub("crashed");
  auto store = OpenStore(dir);
  store->StartWalWriteback();
  for (uint64_t seq = 1; seq <= 100; ++seq) {
    BOOST_TEST_REQUIRE(WriteEvents(*store, {seq}, false).ok());
    if (seq % 10 == 0) store->StartWalWriteback();
  }
  BOOST_TEST_REQUIRE(store->SyncWal().ok());
  std::filesystem::copy(dir, crashed);
  const Rows before = ScanAll(*store, Cf::kEvents);
  BOOST_TEST(before.size() == 100u);
  store.reset();
  BOOST_TEST((ScanAll(*OpenStore(crashed), Cf::kEvents) == before));
  auto read_only = OpenStore(dir, /*read_only=*/true);
  read_only->StartWalWriteback();
  BOOST_TEST((ScanAll(*read_only, Cf::kEvents) == before));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger
