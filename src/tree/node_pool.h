// Storage for a DataTree's nodes: fixed-size slots in one reserved span of
// address space (regions.h ReserveSpan: PROT_NONE, committed in 2 MiB steps
// as the tree grows, huge pages for every step after the first), so a node
// is one slot instead of one heap allocation, its address is stable until
// it is freed, and a 32-bit id names it: node = base() + id (PathIndex,
// parent links and child lists store ids; no table is consulted). A slot is
// constructed when first handed out (untouched slots cost no memory); freed
// slots are reused (LIFO). Id 0 (slot 0) is never handed out. The span is
// reserved on first use and is at most kMaxReserveBytes (fewer when the
// address space is limited): more nodes than it holds is std::bad_alloc.
// Single-threaded, owned by one DataTree; movable (a Swap exchanges pools;
// nodes never move).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tree/node.h"
#include "tree/regions.h"

namespace aviary::tree {

class NodePool {
 public:
  // 64 GiB of address space: ~950M nodes.
  static constexpr size_t kMaxReserveBytes = size_t{64} << 30;

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
  // Commits the memory for ids up to `nodes` now.
  void Reserve(size_t nodes);
  Node* At(uint32_t id) const { return base_ + id; }
  // The id of a node this pool handed out.
  uint32_t IdOf(const Node* n) const { return static_cast<uint32_t>(n - base_); }
  // Slot 0: every node of this pool is base() + its id (ChildList keeps it).
  Node* base() const { return base_; }
  size_t live() const { return next_id_ - 1 - free_.size(); }
  size_t capacity_bytes() const { return committed_bytes_; }

 private:
  // Commits whole 2 MiB steps until slot `id` is usable.
  void CommitThrough(size_t id);

  Node* base_ = nullptr;
  size_t reserved_bytes_ = 0;
  size_t committed_bytes_ = 0;
  std::vector<uint32_t> free_;
  uint32_t next_id_ = 1;
};

}  // namespace aviary::tree
