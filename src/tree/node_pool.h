// Storage for a DataTree's nodes: fixed-size slots in 2 MiB regions
// (regions.h: huge pages for every region after the first), so a node is
// one slot instead of one heap allocation, its address is stable until it
// is freed, and a 32-bit id names it (PathIndex stores ids; a region's last
// 4 bytes hold its index, so IdOf needs no field in the node). A slot is
// constructed when first handed out (untouched slots cost no memory);
// freed slots are reused (LIFO). Id 0 is never handed out. Single-threaded,
// owned by one DataTree; movable (a Swap exchanges pools).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "tree/node.h"
#include "tree/regions.h"

namespace aviary::tree {

class NodePool {
 public:
  static constexpr uint32_t kRegionNodes = static_cast<uint32_t>((kRegionBytes - 4) / sizeof(Node));

  NodePool() = default;
  ~NodePool();
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;
  NodePool(NodePool&& o) noexcept { Swap(o); }
  NodePool& operator=(NodePool&& o) noexcept {
    Swap(o);
    return *this;
  }
  void Swap(NodePool& o) noexcept;

  // A default-constructed node.
  Node* Alloc();
  // Resets `n` to a default node and makes its slot reusable.
  void Free(Node* n);
  // Maps the regions for ids up to `nodes` now.
  void Reserve(size_t nodes);
  Node* At(uint32_t id) const { return reinterpret_cast<Node*>(regions_[id / kRegionNodes]) + id % kRegionNodes; }
  // The id of a node this pool handed out.
  uint32_t IdOf(const Node* n) const {
    const auto addr = reinterpret_cast<uintptr_t>(n);
    const uintptr_t base = addr & ~uintptr_t{kRegionBytes - 1};
    uint32_t region;
    std::memcpy(&region, reinterpret_cast<const char*>(base) + kRegionBytes - 4, sizeof region);
    return region * kRegionNodes + static_cast<uint32_t>((addr - base) / sizeof(Node));
  }
  size_t live() const { return next_id_ - 1 - free_.size(); }
  size_t capacity_bytes() const { return regions_.size() * kRegionBytes; }

 private:
  void AddRegion();

  std::vector<char*> regions_;
  std::vector<uint32_t> free_;
  uint32_t next_id_ = 1;
};

}  // namespace aviary::tree
