#pragma once
// The process's heap allocator, and handing its free memory back to the system.
//
// keyledger is linked with tcmalloc (gperftools' tcmalloc_minimal; CMake option KEYLEDGER_MALLOC):
// measured on the verify and key-creation paths, it takes 15-20% less server CPU per request than
// glibc's malloc, whose _int_malloc/_int_free/malloc_consolidate were 12% of a creation. tcmalloc
// keeps freed pages for reuse rather than returning them at once, so after a phase that frees a
// lot (replaying the log after a checkpoint frees its batches; a checkpoint read into a heap
// buffer of its size had cost 467 B of RSS per active key at 1 M keys instead of 293 B, before
// the read went through a MirroredMemory window) the pages stay resident until released.
// ReleaseFreeMemory hands them back; with the system allocator it is malloc_trim(0).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace keyledger {

// Returns the heap's free pages to the operating system (they stay reserved, not resident).
void ReleaseFreeMemory();

// Makes the pages of [data, data + size) resident and writable now (MADV_POPULATE_WRITE), without
// changing their contents, so that whoever writes them next takes no page faults: a thread with
// time to spare can take them for a busy one. A hint: does nothing where the kernel lacks it.
void PrefaultForWriting(void* data, size_t size);

// `size()` bytes of memory (whole pages, at least as many as asked for) mapped twice, back to back:
// data()[i] and data()[i + size()] are the same byte, so any size() consecutive bytes of a ring
// buffer over it, starting anywhere in the first mapping, lie in one piece. A checkpoint is
// decoded through such a window rather than a buffer of its whole size (160 MiB at a million
// keys, each page of it a page fault and resident until released). Its pages are shared memory
// (a memfd), resident once touched and freed on destruction.
// Throws std::system_error when the mappings cannot be made.
class MirroredMemory {
 public:
  explicit MirroredMemory(size_t size);
  MirroredMemory(const MirroredMemory&) = delete;
  MirroredMemory& operator=(const MirroredMemory&) = delete;
  ~MirroredMemory();

  char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};

// This process's resident set (VmRSS of /proc/self/status) in bytes, or 0 when unreadable.
uint64_t ResidentBytes();

// "tcmalloc" or "glibc": which allocator this build uses, for start-up logs and benchmarks.
std::string_view MallocName();

}  // namespace keyledger
