#include "core/memory.h"

#ifdef KEYLEDGER_WITH_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#else
#include <malloc.h>
#endif

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <system_error>

namespace keyledger {

void ReleaseFreeMemory() {
#ifdef KEYLEDGER_WITH_TCMALLOC
  MallocExtension_ReleaseFreeMemory();
#else
  malloc_trim(0);
#endif
}

void PrefaultForWriting(void* data, size_t size) {
#ifndef MADV_POPULATE_WRITE
  constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14; older headers lack the name
#endif
  if (size == 0) return;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  // Whole pages: the ones around the range belong to the same mapping, and populating a page
  // leaves what it holds as it was.
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + size + page - 1) & ~(page - 1);
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
}

MirroredMemory::MirroredMemory(size_t size) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (size == 0 || size > (SIZE_MAX >> 2)) throw std::system_error(EINVAL, std::generic_category(), "mirrored memory");
  size_ = (size + page - 1) / page * page;
  const int fd = memfd_create("keyledger-ring", MFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "memfd_create");
  // Reserve room for both mappings first, so that nothing else can be mapped between them.
  void* room = MAP_FAILED;
  if (ftruncate(fd, static_cast<off_t>(size_)) == 0) {
    room = mmap(nullptr, 2 * size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  }
  const int error = errno;
  bool mapped = room != MAP_FAILED;
  for (size_t copy = 0; mapped && copy < 2; ++copy) {
    mapped = mmap(static_cast<char*>(room) + copy * size_, size_, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_FIXED, fd, 0) != MAP_FAILED;
  }
  const int map_error = errno;
  close(fd);  // the mappings keep the memory
  if (!mapped) {
    if (room != MAP_FAILED) munmap(room, 2 * size_);
    throw std::system_error(room == MAP_FAILED ? error : map_error, std::generic_category(), "mirrored memory");
  }
  data_ = static_cast<char*>(room);
}

MirroredMemory::~MirroredMemory() { munmap(data_, 2 * size_); }

uint64_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return 0;
}

std::string_view MallocName() {
#ifdef KEYLEDGER_WITH_TCMALLOC
  return "tcmalloc";
#else
  return "glibc";
#endif
}

}  // namespace keyledger
