// Memory regions for a DataTree's pools (NodePool, BytesArena): 2 MiB,
// 2 MiB-aligned, anonymous mmap, zero-filled, touched (and so resident)
// only where written. With huge pages on (HugePages(), default on; the
// environment variable AVIARY_TREE_HUGEPAGES=0 turns them off) a region that
// is not a pool's first is advised MADV_HUGEPAGE, so a large tree is mapped
// by 2 MiB TLB entries while a small tree keeps 4 KiB pages (one huge page
// would make even an empty tree cost 2 MiB). Thread-safe (no state besides
// the once-read switch).
#pragma once

#include <cstddef>

namespace aviary::tree {

inline constexpr size_t kRegionBytes = size_t{2} << 20;

// Whether regions after a pool's first are advised MADV_HUGEPAGE.
bool HugePages();
// A fresh region (huge-page advice when `huge` and HugePages()); throws
// std::bad_alloc when the system has no memory for it.
char* MapRegion(bool huge);
void UnmapRegion(char* region);
// A 2 MiB-aligned span of address space with no memory behind it
// (PROT_NONE, MAP_NORESERVE) of *bytes bytes, a multiple of kRegionBytes;
// when the system refuses that much (RLIMIT_AS), *bytes is halved down to
// 64 MiB before std::bad_alloc.
char* ReserveSpan(size_t* bytes);
// Makes [p, p + bytes) of a span readable and writable (zero-filled,
// resident only where written); huge-page advice as MapRegion. Throws
// std::bad_alloc when the system refuses.
void CommitSpan(char* p, size_t bytes, bool huge);
void ReleaseSpan(char* p, size_t bytes);
// Advises MADV_HUGEPAGE for the 2 MiB-aligned part of [p, p + bytes) when
// huge pages are on and the range spans at least two huge pages (for a
// large heap array, before it is first written).
void AdviseHugePages(void* p, size_t bytes);

}  // namespace aviary::tree
