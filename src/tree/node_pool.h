// Storage for a DataTree's nodes: fixed-size slots in chunks of 1024, so a
// node is one slot instead of one heap allocation, its address is stable
// until it is freed, and a 32-bit id names it (PathIndex stores ids). Freed
// slots are reused (LIFO). Id 0 is never handed out. Single-threaded, owned
// by one DataTree; movable (a Swap exchanges pools).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "tree/node.h"

namespace aviary::tree {

class NodePool {
 public:
  static constexpr uint32_t kChunkShift = 10;
  static constexpr uint32_t kChunkNodes = 1u << kChunkShift;

  // A default-constructed node with id_ set.
  Node* Alloc();
  // Resets `n` to a default node and makes its slot reusable.
  void Free(Node* n);
  Node* At(uint32_t id) const { return &chunks_[id >> kChunkShift][id & (kChunkNodes - 1)]; }
  size_t live() const { return next_id_ - 1 - free_.size(); }
  size_t capacity_bytes() const { return chunks_.size() * kChunkNodes * sizeof(Node); }

 private:
  std::vector<std::unique_ptr<Node[]>> chunks_;
  std::vector<uint32_t> free_;
  uint32_t next_id_ = 1;
};

}  // namespace aviary::tree
