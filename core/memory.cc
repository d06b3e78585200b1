#include "core/memory.h"

#ifdef KEYLEDGER_WITH_TCMALLOC
#include <gperftools/malloc_extension_c.h>
#else
#include <malloc.h>
#endif

namespace keyledger {

void ReleaseFreeMemory() {
#ifdef KEYLEDGER_WITH_TCMALLOC
  MallocExtension_ReleaseFreeMemory();
#else
  malloc_trim(0);
#endif
}

std::string_view MallocName() {
#ifdef KEYLEDGER_WITH_TCMALLOC
  return "tcmalloc";
#else
  return "glibc";
#endif
}

}  // namespace keyledger
