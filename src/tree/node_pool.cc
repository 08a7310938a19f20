#include "tree/node_pool.h"

#include <new>
#include <utility>

namespace aviary::tree {

NodePool::~NodePool() {
  if (base_ == nullptr) return;
  for (uint32_t id = 1; id < next_id_; ++id) At(id)->~Node();
  ReleaseSpan(reinterpret_cast<char*>(base_), reserved_bytes_);
}

void NodePool::Swap(NodePool& o) noexcept {
  std::swap(base_, o.base_);
  std::swap(reserved_bytes_, o.reserved_bytes_);
  std::swap(committed_bytes_, o.committed_bytes_);
  std::swap(free_, o.free_);
  std::swap(next_id_, o.next_id_);
}

void NodePool::CommitThrough(size_t id) {
  const size_t need = (id + 1) * sizeof(Node);
  if (need <= committed_bytes_) return;
  if (base_ == nullptr) {
    reserved_bytes_ = kMaxReserveBytes;
    base_ = reinterpret_cast<Node*>(ReserveSpan(&reserved_bytes_));
  }
  if (need > reserved_bytes_ || id > UINT32_MAX) throw std::bad_alloc();
  while (committed_bytes_ < need) {
    // The first step keeps 4 KiB pages (a small tree stays small).
    CommitSpan(reinterpret_cast<char*>(base_) + committed_bytes_, kRegionBytes, committed_bytes_ != 0);
    committed_bytes_ += kRegionBytes;
  }
}

Node* NodePool::Alloc() {
  if (!free_.empty()) {
    const uint32_t id = free_.back();
    free_.pop_back();
    return At(id);
  }
  const uint32_t id = next_id_;
  CommitThrough(id);
  ++next_id_;
  return new (At(id)) Node();
}

void NodePool::Free(Node* n) {
  free_.push_back(IdOf(n));
  n->~Node();
  new (n) Node();
}

void NodePool::Reserve(size_t nodes) { CommitThrough(nodes); }

}  // namespace aviary::tree
