#include "tree/node_pool.h"

#include <cstring>
#include <new>
#include <utility>

namespace aviary::tree {

NodePool::~NodePool() {
  for (uint32_t id = 1; id < next_id_; ++id) At(id)->~Node();
  for (char* r : regions_) UnmapRegion(r);
}

void NodePool::Swap(NodePool& o) noexcept {
  std::swap(regions_, o.regions_);
  std::swap(free_, o.free_);
  std::swap(next_id_, o.next_id_);
}

static_assert(NodePool::kRegionNodes * sizeof(Node) + 4 <= kRegionBytes, "the region index needs its 4 bytes");

void NodePool::AddRegion() {
  char* r = MapRegion(!regions_.empty());
  const auto index = static_cast<uint32_t>(regions_.size());
  std::memcpy(r + kRegionBytes - 4, &index, sizeof index);
  regions_.push_back(r);
}

Node* NodePool::Alloc() {
  if (!free_.empty()) {
    const uint32_t id = free_.back();
    free_.pop_back();
    return At(id);
  }
  const uint32_t id = next_id_;
  if (id / kRegionNodes >= regions_.size()) AddRegion();
  ++next_id_;
  return new (At(id)) Node();
}

void NodePool::Free(Node* n) {
  free_.push_back(IdOf(n));
  n->~Node();
  new (n) Node();
}

void NodePool::Reserve(size_t nodes) {
  const size_t regions = (nodes + kRegionNodes) / kRegionNodes;
  regions_.reserve(regions);
  while (regions_.size() < regions) AddRegion();
}

}  // namespace aviary::tree
