#include "server/heap_release.h"

#include <cstdlib>

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

bool LimitMallocArenas() {
#if defined(__GLIBC__)
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return false;
  return mallopt(M_ARENA_MAX, 2) == 1;
#else
  return false;
#endif
}

bool IdleTrim::Due(int64_t zxid, int64_t now_ms) {
  if (zxid != zxid_) {
    zxid_ = zxid;
    since_ms_ = now_ms;
  }
  // Zxids count txns within an epoch; a new epoch (or a truncated log)
  // counts as many. Both are >= 0: the difference cannot overflow.
  pending_ = zxid_ - trimmed_zxid_ >= kMinTxns || zxid_ < trimmed_zxid_;
  if (!pending_ || now_ms - since_ms_ < kIdleMs) return false;
  trimmed_zxid_ = zxid_;
  pending_ = false;
  return true;
}

}  // namespace aviary::server
