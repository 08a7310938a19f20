#include "tree/bytes_arena.h"

#include <cstring>
#include <utility>

namespace aviary::tree {

BytesArena::~BytesArena() {
  for (char* c : chunks_) UnmapRegion(c);
}

void BytesArena::Swap(BytesArena& o) noexcept {
  std::swap(chunks_, o.chunks_);
  std::swap(next_, o.next_);
  std::swap(end_, o.end_);
  std::swap(free_, o.free_);
}

char* BytesArena::Alloc(size_t bytes) {
  if (bytes > kMaxRecordBytes) return nullptr;
  const size_t r = Rounded(bytes);
  char*& head = free_[r];
  if (head != nullptr) {
    char* p = head;
    std::memcpy(&head, p, sizeof(char*));
    return p;
  }
  if (static_cast<size_t>(end_ - next_) < r) {
    // The old chunk's tail becomes a free record of its own size.
    if (static_cast<size_t>(end_ - next_) >= kMinRecordBytes) {
      Free(next_, static_cast<size_t>(end_ - next_));
    }
    char* chunk = MapRegion(!chunks_.empty());
    chunks_.push_back(chunk);
    next_ = chunk;
    end_ = chunk + kChunkBytes;
  }
  char* p = next_;
  next_ += r;
  return p;
}

void BytesArena::Free(char* p, size_t bytes) {
  char*& head = free_[Rounded(bytes)];
  std::memcpy(p, &head, sizeof(char*));
  head = p;
}

}  // namespace aviary::tree
