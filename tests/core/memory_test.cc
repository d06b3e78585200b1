// ReleaseFreeMemory really returns freed heap pages to the system, whichever allocator is built in
// (tcmalloc keeps them resident until told; glibc keeps those below a live chunk until trimmed),
// and MirroredMemory maps the same memory twice.

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/memory.h"

namespace keyledger {
namespace {

BOOST_AUTO_TEST_SUITE(memory)

BOOST_AUTO_TEST_CASE(freed_small_blocks_leave_the_resident_set_once_released) {
  constexpr size_t kBlock = 2048, kBlocks = 32 * 1024;  // 64 MiB in blocks no allocator mmaps alone
  std::vector<char*> blocks;
  blocks.reserve(kBlocks);
  for (size_t i = 0; i < kBlocks; ++i) {
    char* block = static_cast<char*>(std::malloc(kBlock));
    BOOST_REQUIRE(block != nullptr);
    std::memset(block, static_cast<int>(i), kBlock);  // resident, not only reserved
    blocks.push_back(block);
  }
  // A live block allocated last, so the freed ones are not simply the top of the heap.
  char* live = static_cast<char*>(std::malloc(kBlock));
  std::memset(live, 1, kBlock);
  const uint64_t peak = ResidentBytes();
  BOOST_REQUIRE(peak > kBlock * kBlocks);
  for (char* block : blocks) std::free(block);

  ReleaseFreeMemory();
  const uint64_t released = ResidentBytes();
  BOOST_TEST_MESSAGE("RSS " << peak / 1048576 << " MiB at the peak, " << released / 1048576
                            << " MiB after release (" << MallocName() << ")");
  BOOST_TEST(released + kBlock * kBlocks / 2 < peak);
  BOOST_TEST(live[kBlock - 1] == 1);  // the live block is untouched
  std::free(live);
}

// Both mappings are the same memory: a write through one is read through the other, so a ring
// over it reads any window-long run of bytes in one piece.
BOOST_AUTO_TEST_CASE(mirrored_memory_shows_each_byte_twice) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  MirroredMemory ring(page + 1);
  BOOST_TEST(ring.size() == 2 * page);  // whole pages
  ring.data()[5] = 'a';
  BOOST_TEST(ring.data()[ring.size() + 5] == 'a');
  ring.data()[ring.size() + 7] = 'b';
  BOOST_TEST(ring.data()[7] == 'b');
  // A run across the end of the first mapping continues at the start of the memory.
  std::memcpy(ring.data() + ring.size() - 2, "wxyz", 4);
  BOOST_TEST(std::string_view(ring.data(), 2) == "yz");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger
