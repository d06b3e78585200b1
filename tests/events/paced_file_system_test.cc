// PacedFileSystem: deleting a file first drops its cached pages a piece at a time (the file's
// contents untouched), then deletes it as RocksDB's own file system does.

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "events/paced_file_system.h"
#include "tests/events/temp_dir.h"

namespace keyledger {
namespace {

constexpr uint64_t kTmpfsMagic = 0x01021994;

// Writes `size` bytes to `path` and makes them durable, so that their cached pages are clean.
void WriteDurably(const std::string& path, uint64_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  BOOST_REQUIRE(fd >= 0);
  const std::string chunk(64 << 10, 'x');
  for (uint64_t written = 0; written < size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), size - written));
    BOOST_REQUIRE(::write(fd, chunk.data(), n) == static_cast<ssize_t>(n));
    written += n;
  }
  BOOST_REQUIRE(::fsync(fd) == 0);
  ::close(fd);
}

// Pages of `path` in the page cache.
size_t ResidentPages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  BOOST_REQUIRE(fd >= 0);
  struct stat st {};
  BOOST_REQUIRE(::fstat(fd, &st) == 0);
  const auto size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  BOOST_REQUIRE(map != MAP_FAILED);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((size + page - 1) / page);
  BOOST_REQUIRE(::mincore(map, size, resident.data()) == 0);
  ::munmap(map, size);
  size_t count = 0;
  for (unsigned char r : resident) count += r & 1;
  return count;
}

BOOST_AUTO_TEST_SUITE(paced_file_system)

BOOST_AUTO_TEST_CASE(deletes_a_file_after_dropping_its_cache_piece_by_piece) {
  TempDir dir;
  PacedFileSystem fs(rocksdb::FileSystem::Default());
  const std::string path = dir.Sub("000012.log");
  WriteDurably(path, 8 * PacedFileSystem::kPiece + 1);
  rocksdb::IOStatus s = fs.DeleteFile(path, rocksdb::IOOptions(), nullptr);
  BOOST_TEST(s.ok(), s.ToString());
  BOOST_TEST(!std::filesystem::exists(path));
  BOOST_TEST(fs.pieces_dropped() == 9u);
}

BOOST_AUTO_TEST_CASE(the_contents_stay_for_another_link_and_leave_the_cache) {
  TempDir dir;
  struct statfs fs_info {};
  BOOST_REQUIRE(::statfs(dir.path().c_str(), &fs_info) == 0);
  PacedFileSystem fs(rocksdb::FileSystem::Default());
  const std::string path = dir.Sub("000013.sst"), link = dir.Sub("backup.sst");
  WriteDurably(path, 4 * PacedFileSystem::kPiece);
  std::filesystem::create_hard_link(path, link);  // as a backup's checkpoint links table files
  const bool cache_droppable = static_cast<uint64_t>(fs_info.f_type) != kTmpfsMagic;
  if (cache_droppable) BOOST_TEST(ResidentPages(link) > 0u);  // written pages stay cached

  BOOST_TEST(fs.DeleteFile(path, rocksdb::IOOptions(), nullptr).ok());
  BOOST_TEST(!std::filesystem::exists(path));
  BOOST_TEST(fs.pieces_dropped() == 4u);
  // tmpfs keeps its pages in memory whatever one advises: only elsewhere can they be dropped.
  if (cache_droppable) {
    BOOST_TEST(ResidentPages(link) == 0u);
  } else {
    BOOST_TEST_MESSAGE("temp dir on tmpfs: its page cache cannot be dropped");
  }
  BOOST_TEST(std::filesystem::file_size(link) == 4 * PacedFileSystem::kPiece);
  std::ifstream in(link, std::ios::binary);
  const std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST((contents == std::string(4 * PacedFileSystem::kPiece, 'x')));
}

BOOST_AUTO_TEST_CASE(a_missing_file_fails_as_it_would_without_the_pacing) {
  TempDir dir;
  PacedFileSystem fs(rocksdb::FileSystem::Default());
  rocksdb::IOStatus paced = fs.DeleteFile(dir.Sub("missing.log"), rocksdb::IOOptions(), nullptr);
  rocksdb::IOStatus plain =
      rocksdb::FileSystem::Default()->DeleteFile(dir.Sub("missing.log"), rocksdb::IOOptions(), nullptr);
  BOOST_TEST(!paced.ok());
  BOOST_TEST(paced.code() == plain.code());
  BOOST_TEST(fs.pieces_dropped() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
