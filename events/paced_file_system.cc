#include "events/paced_file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events/background_pacer.h"

namespace keyledger {

rocksdb::IOStatus PacedFileSystem::DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                                              rocksdb::IODebugContext* dbg) {
  DropCachedPages(fname);
  return target()->DeleteFile(fname, options, dbg);
}

void PacedFileSystem::DropCachedPages(const std::string& fname) {
  // Best effort: where the file cannot be opened, the deletion reports why.
  const int fd = ::open(fname.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    const auto size = static_cast<uint64_t>(st.st_size);
    for (uint64_t offset = 0; offset < size; offset += kPiece) {
      ::posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(kPiece), POSIX_FADV_DONTNEED);
      pieces_dropped_.fetch_add(1, std::memory_order_relaxed);
      BackgroundPacer::RestIfSliceUsed();
    }
  }
  ::close(fd);
}

}  // namespace keyledger
