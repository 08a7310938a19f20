// Size-class arena for the name+data records of a DataTree's nodes
// (NodeBytes blocks): records up to kMaxRecordBytes are carved from 2 MiB
// regions (regions.h: huge pages after the first) at their exact size (at
// least kMinRecordBytes: a free record holds the free list's link), byte
// aligned, with one free list per size, so a record costs its bytes (malloc
// adds an 8-byte header and rounds to 16) and a bulk load allocates nothing
// per node. Larger records are not the arena's
// (Alloc returns nullptr; NodeBytes mallocs them). Memory goes back to the
// system only when the arena is destroyed. Single-threaded, owned by one
// DataTree; movable (DataTree::Swap).
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "tree/regions.h"

namespace aviary::tree {

class BytesArena {
 public:
  static constexpr size_t kMaxRecordBytes = 1024;
  static constexpr size_t kChunkBytes = kRegionBytes;

  BytesArena() = default;
  ~BytesArena();
  BytesArena(const BytesArena&) = delete;
  BytesArena& operator=(const BytesArena&) = delete;
  BytesArena(BytesArena&& o) noexcept { Swap(o); }
  BytesArena& operator=(BytesArena&& o) noexcept {
    Swap(o);
    return *this;
  }
  void Swap(BytesArena& o) noexcept;

  static constexpr size_t kMinRecordBytes = sizeof(char*);
  static size_t Rounded(size_t bytes) { return bytes < kMinRecordBytes ? kMinRecordBytes : bytes; }
  // A record of Rounded(bytes), not aligned; nullptr when bytes > kMaxRecordBytes.
  char* Alloc(size_t bytes);
  // Returns a record Alloc(bytes) gave.
  void Free(char* p, size_t bytes);
  size_t capacity_bytes() const { return chunks_.size() * kChunkBytes; }

 private:
  std::vector<char*> chunks_;
  char* next_ = nullptr;  // bump pointer in the last chunk
  char* end_ = nullptr;
  std::array<char*, kMaxRecordBytes + 1> free_{};  // by Rounded(bytes)
};

}  // namespace aviary::tree
