#include "tree/node_pool.h"

#include <new>

namespace aviary::tree {

Node* NodePool::Alloc() {
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = next_id_++;
    if ((id >> kChunkShift) >= chunks_.size()) chunks_.push_back(std::make_unique<Node[]>(kChunkNodes));
  }
  Node* n = At(id);
  n->id_ = id;
  return n;
}

void NodePool::Free(Node* n) {
  const uint32_t id = n->id_;
  n->~Node();
  new (n) Node();
  n->id_ = id;
  free_.push_back(id);
}

}  // namespace aviary::tree
