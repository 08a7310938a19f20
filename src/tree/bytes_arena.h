// Size-class arena for the name+data records of a DataTree's nodes
// (NodeBytes blocks): records up to kMaxRecordBytes are carved from 2 MiB
// regions (regions.h: huge pages after the first) in 8-byte steps, with one free list per size, so a record costs its
// bytes rounded to 8 (malloc adds a 8-byte header and rounds to 16) and a
// bulk load allocates nothing per node. Larger records are not the arena's
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

  static size_t Rounded(size_t bytes) { return (bytes + 7) & ~size_t{7}; }
  // A record of Rounded(bytes), 8-aligned; nullptr when bytes > kMaxRecordBytes.
  char* Alloc(size_t bytes);
  // Returns a record Alloc(bytes) gave.
  void Free(char* p, size_t bytes);
  size_t capacity_bytes() const { return chunks_.size() * kChunkBytes; }

 private:
  std::vector<char*> chunks_;
  char* next_ = nullptr;  // bump pointer in the last chunk
  char* end_ = nullptr;
  std::array<char*, kMaxRecordBytes / 8 + 1> free_{};  // by Rounded(bytes) / 8
};

}  // namespace aviary::tree
