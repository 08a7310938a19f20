#include "tree/regions.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace aviary::tree {

bool HugePages() {
  static const bool on = [] {
    const char* v = std::getenv("AVIARY_TREE_HUGEPAGES");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }();
  return on;
}

char* MapRegion(bool huge) {
  // Map twice the size and trim to a 2 MiB-aligned region (a huge page
  // needs an aligned 2 MiB range).
  const size_t span = 2 * kRegionBytes;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<char*>(raw);
  const auto addr = reinterpret_cast<uintptr_t>(base);
  char* region = base + ((kRegionBytes - addr % kRegionBytes) % kRegionBytes);
  if (region != base) munmap(base, static_cast<size_t>(region - base));
  char* tail = region + kRegionBytes;
  if (tail != base + span) munmap(tail, static_cast<size_t>(base + span - tail));
  if (huge && HugePages()) madvise(region, kRegionBytes, MADV_HUGEPAGE);
  return region;
}

void UnmapRegion(char* region) { munmap(region, kRegionBytes); }

char* ReserveSpan(size_t* bytes) {
  for (size_t want = *bytes; want >= (size_t{64} << 20); want /= 2) {
    const size_t span = want + kRegionBytes;
    void* raw = mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) continue;
    auto* base = static_cast<char*>(raw);
    const auto addr = reinterpret_cast<uintptr_t>(base);
    char* start = base + ((kRegionBytes - addr % kRegionBytes) % kRegionBytes);
    if (start != base) munmap(base, static_cast<size_t>(start - base));
    char* tail = start + want;
    if (tail != base + span) munmap(tail, static_cast<size_t>(base + span - tail));
    *bytes = want;
    return start;
  }
  throw std::bad_alloc();
}

void CommitSpan(char* p, size_t bytes, bool huge) {
  if (mprotect(p, bytes, PROT_READ | PROT_WRITE) != 0) throw std::bad_alloc();
  if (huge && HugePages()) madvise(p, bytes, MADV_HUGEPAGE);
}

void ReleaseSpan(char* p, size_t bytes) { munmap(p, bytes); }

void AdviseHugePages(void* p, size_t bytes) {
  if (!HugePages() || bytes < 2 * kRegionBytes) return;
  const auto start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t first = (start + kRegionBytes - 1) & ~uintptr_t{kRegionBytes - 1};
  const uintptr_t last = (start + bytes) & ~uintptr_t{kRegionBytes - 1};
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

}  // namespace aviary::tree
