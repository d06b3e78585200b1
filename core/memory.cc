#include "core/memory.h"

#ifdef KEYLEDGER_WITH_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#else
#include <malloc.h>
#endif

#include <cstdlib>
#include <fstream>
#include <string>

namespace keyledger {

void ReleaseFreeMemory() {
#ifdef KEYLEDGER_WITH_TCMALLOC
  MallocExtension_ReleaseFreeMemory();
#else
  malloc_trim(0);
#endif
}

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
