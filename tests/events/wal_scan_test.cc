// events/wal_scan.h on real WALs: crash images of a store that was written to (copies of its
// files taken while it is open, zeros past the last record), then damaged or torn by hand.

#include <boost/test/unit_test.hpp>

#include "events/wal_scan.h"

#include <rocksdb/write_batch.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "events/prezeroed_wal_file_system.h"
#include "events/store.h"
#include "tests/events/temp_dir.h"
#include "tests/events/wait_for.h"

namespace keyledger {
namespace {

namespace fs = std::filesystem;

std::string Needle(int i) { return "wal-scan-needle-" + std::to_string(1000 + i); }

// A crash image in `crashed` of a store that wrote 200 synced batches (one ~1.2 KB row each, so
// that records span blocks) to its WAL; returns the WAL's file name.
std::string CrashImage(const TempDir& tmp, const std::string& crashed) {
  const std::string dir = tmp.Sub("db");
  StoreOptions options;
  options.block_cache_bytes = 1 << 20;
  auto store = EventStore::Open(dir, options);
  BOOST_TEST_REQUIRE(store.ok(), store.status().message());
  for (int i = 0; i < 200; ++i) {
    rocksdb::WriteBatch batch;
    BOOST_REQUIRE(batch.Put((*store)->cf(Cf::kEvents), EncodeSeq(i + 1), Needle(i) + std::string(1200, 'x')).ok());
    BOOST_TEST_REQUIRE((*store)->Write(batch, true).ok());
  }
  std::string wal;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") wal = entry.path().filename();
  }
  BOOST_TEST_REQUIRE(!wal.empty());
  BOOST_TEST_REQUIRE(WaitFor([&] { return fs::file_size(dir + "/" + wal) >= PrezeroedWalFileSystem::kAhead; }));
  fs::copy(dir, crashed);
  return wal;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

BOOST_AUTO_TEST_SUITE(wal_scan)

BOOST_AUTO_TEST_CASE(an_intact_wal_ending_in_zeros_has_no_damage) {
  TempDir tmp;
  const std::string crashed = tmp.Sub("crashed");
  CrashImage(tmp, crashed);
  auto found = FindWalDamage(crashed);
  BOOST_TEST_REQUIRE(found.ok(), found.status().message());
  BOOST_TEST(!found->has_value(), (*found ? (*found)->what : ""));
}

BOOST_AUTO_TEST_CASE(a_damaged_record_with_records_after_it_is_reported) {
  TempDir tmp;
  const std::string crashed = tmp.Sub("crashed");
  const std::string wal = CrashImage(tmp, crashed);
  std::string bytes = ReadFile(crashed + "/" + wal);
  const size_t at = bytes.find(Needle(100));
  BOOST_TEST_REQUIRE(at != std::string::npos);
  bytes[at + 3] ^= 0x01;
  WriteFile(crashed + "/" + wal, bytes);

  auto found = FindStableWalDamage(crashed);
  BOOST_TEST_REQUIRE(found.ok(), found.status().message());
  BOOST_TEST_REQUIRE(found->has_value());
  const WalDamage& damage = **found;
  BOOST_TEST(damage.file == wal);
  BOOST_TEST(damage.offset < at);
  BOOST_TEST(at - damage.offset < 32768u, "the record holding the changed byte");
  BOOST_TEST(damage.bytes_after > 99u * 1200u, "the 99 records after it");
  BOOST_TEST(damage.what.find(wal) != std::string::npos);
}

// What a crash or a power cut leaves: the last write half there, zeros (or nothing) after it.
BOOST_AUTO_TEST_CASE(a_torn_last_record_is_not_damage) {
  TempDir tmp;
  const std::string crashed = tmp.Sub("crashed");
  const std::string wal = CrashImage(tmp, crashed);
  const std::string bytes = ReadFile(crashed + "/" + wal);
  const size_t last = bytes.find(Needle(199));
  BOOST_TEST_REQUIRE(last != std::string::npos);

  std::string zeroed = bytes;  // the record's second half never reached the disk
  std::fill(zeroed.begin() + static_cast<std::ptrdiff_t>(last + 600), zeroed.end(), '\0');
  WriteFile(crashed + "/" + wal, zeroed);
  auto found = FindWalDamage(crashed);
  BOOST_TEST_REQUIRE(found.ok());
  BOOST_TEST(!found->has_value());

  WriteFile(crashed + "/" + wal, bytes.substr(0, last + 600));  // the file ends inside it
  found = FindWalDamage(crashed);
  BOOST_TEST_REQUIRE(found.ok());
  BOOST_TEST(!found->has_value());

  // The same cut short earlier, with the later records still there: damage.
  std::string holed = bytes;
  std::fill(holed.begin() + static_cast<std::ptrdiff_t>(bytes.find(Needle(150))),
            holed.begin() + static_cast<std::ptrdiff_t>(bytes.find(Needle(150)) + 600), '\0');
  WriteFile(crashed + "/" + wal, holed);
  found = FindWalDamage(crashed);
  BOOST_TEST_REQUIRE(found.ok());
  BOOST_TEST(found->has_value());
}

BOOST_AUTO_TEST_CASE(a_directory_without_wal_files_has_no_damage) {
  TempDir tmp;
  auto found = FindWalDamage(tmp.path());
  BOOST_TEST_REQUIRE(found.ok());
  BOOST_TEST(!found->has_value());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
