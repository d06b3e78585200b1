// PrezeroedWalFileSystem: a WAL (*.log) is filled with zeros ahead of its writer, never over what
// the writer appended, and closing it gives the zeros back; other files are written as they are.

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "events/prezeroed_wal_file_system.h"
#include "tests/events/temp_dir.h"
#include "tests/events/wait_for.h"

namespace keyledger {
namespace {

constexpr uint64_t kAhead = PrezeroedWalFileSystem::kAhead;

uint64_t FileSize(const std::string& path) {
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_size);
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::unique_ptr<rocksdb::FSWritableFile> NewFile(PrezeroedWalFileSystem& fs, const std::string& path) {
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = fs.NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
  return file;
}

void Append(rocksdb::FSWritableFile& file, const std::string& data) {
  rocksdb::IOStatus s = file.Append(data, rocksdb::IOOptions(), nullptr);
  BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
}

// `size` bytes that are nowhere zero and differ from piece to piece.
std::string Piece(size_t index, size_t size) {
  std::string piece(size, '\0');
  for (size_t i = 0; i < size; ++i) piece[i] = static_cast<char>(1 + (index * 131 + i) % 255);
  return piece;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prezeroed_wal_file_system)

BOOST_AUTO_TEST_CASE(zeros_reach_ahead_of_the_writer_and_close_gives_them_back) {
  TempDir tmp;
  PrezeroedWalFileSystem fs(rocksdb::FileSystem::Default());
  const std::string path = tmp.Sub("000007.log");
  auto file = NewFile(fs, path);
  const std::string data = Piece(0, 10000);
  Append(*file, data);

  BOOST_TEST_REQUIRE(WaitFor([&] { return fs.bytes_zeroed() >= kAhead; }));
  BOOST_TEST(FileSize(path) >= kAhead);
  const std::string contents = Contents(path);
  BOOST_TEST((contents.substr(0, data.size()) == data));
  BOOST_TEST(contents.find_first_not_of('\0', data.size()) == std::string::npos);
  BOOST_TEST(file->GetFileSize(rocksdb::IOOptions(), nullptr) == data.size());

  BOOST_TEST_REQUIRE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  BOOST_TEST(FileSize(path) == data.size());
  BOOST_TEST((Contents(path) == data));
}

BOOST_AUTO_TEST_CASE(appends_racing_the_zeros_all_survive) {
  TempDir tmp;
  PrezeroedWalFileSystem fs(rocksdb::FileSystem::Default());
  const std::string path = tmp.Sub("000009.log");
  auto file = NewFile(fs, path);
  // Pieces of a few KB until the zeros have been written ahead three times while the writer
  // went on: it keeps catching up with them (and overtaking them when their thread waits for a
  // core) and asking for more.
  std::string expected;
  for (size_t i = 0; (expected.size() < 4 * kAhead || fs.bytes_zeroed() < 3 * kAhead) &&
                     expected.size() < 16 * kAhead;
       ++i) {
    const std::string piece = Piece(i, 1000 + i % 7000);
    Append(*file, piece);
    expected += piece;
    if (i % 64 == 0) std::this_thread::yield();
  }
  BOOST_TEST_REQUIRE(file->Sync(rocksdb::IOOptions(), nullptr).ok());
  BOOST_TEST(fs.bytes_zeroed() >= 3 * kAhead);

  // What a crash would leave: every appended byte, then nothing but zeros.
  const std::string contents = Contents(path);
  BOOST_TEST_REQUIRE(contents.size() >= expected.size());
  BOOST_TEST((contents.compare(0, expected.size(), expected) == 0));
  BOOST_TEST(contents.find_first_not_of('\0', expected.size()) == std::string::npos);

  BOOST_TEST_REQUIRE(file->Close(rocksdb::IOOptions(), nullptr).ok());
  BOOST_TEST((Contents(path) == expected));
}

BOOST_AUTO_TEST_CASE(a_file_not_named_log_is_written_as_it_is) {
  TempDir tmp;
  PrezeroedWalFileSystem fs(rocksdb::FileSystem::Default());
  const std::string table = tmp.Sub("000011.sst");
  const std::string info_log = tmp.Sub("LOG");
  auto table_file = NewFile(fs, table);
  auto info_file = NewFile(fs, info_log);
  Append(*table_file, "table");
  Append(*info_file, "info");
  // A WAL created after them: once its zeros are written, any request for theirs would have been.
  auto wal = NewFile(fs, tmp.Sub("000012.log"));
  BOOST_TEST_REQUIRE(WaitFor([&] { return fs.bytes_zeroed() >= kAhead; }));
  BOOST_TEST(fs.bytes_zeroed() < 2 * kAhead);
  BOOST_TEST(FileSize(table) == 5u);
  BOOST_TEST(FileSize(info_log) == 4u);
  BOOST_TEST(wal->Close(rocksdb::IOOptions(), nullptr).ok());
}

BOOST_AUTO_TEST_CASE(a_file_destroyed_without_close_keeps_its_zeros) {
  TempDir tmp;
  const std::string path = tmp.Sub("000013.log");
  {
    PrezeroedWalFileSystem fs(rocksdb::FileSystem::Default());
    auto file = NewFile(fs, path);
    Append(*file, "abc");
    BOOST_TEST_REQUIRE(WaitFor([&] { return fs.bytes_zeroed() >= kAhead; }));
  }  // the file, then the file system (and its thread) go; as after a crash, the zeros stay
  const std::string contents = Contents(path);
  BOOST_TEST(contents.size() >= kAhead);
  BOOST_TEST(contents.substr(0, 3) == "abc");
  BOOST_TEST(contents.find_first_not_of('\0', 3) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace keyledger
