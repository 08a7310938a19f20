#include "server/heap_release.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace aviary::server {

bool ReleaseFreeHeap() {
#if defined(__GLIBC__)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace aviary::server
