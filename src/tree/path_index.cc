#include "tree/path_index.h"

#include <bit>

namespace aviary::tree {

bool PathIs(const Node* n, std::string_view path) {
  if (n->parent() == nullptr) return path == "/";
  while (n->parent() != nullptr) {
    const std::string_view name = n->name();
    if (path.size() <= name.size() || !path.ends_with(name) || path[path.size() - name.size() - 1] != '/') return false;
    path.remove_suffix(name.size() + 1);
    n = n->parent();
  }
  return path.empty();
}

Node* PathIndex::Find(const NodePool& pool, std::string_view path, uint32_t hash) const {
  if (used_ == 0) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(hash);; i = (i + 1) & mask) {
    const uint32_t id = slots_[i];
    if (id == 0) return nullptr;
    Node* n = pool.At(id);
    if (n->hash_ == hash && PathIs(n, path)) return n;
  }
}

void PathIndex::Insert(const NodePool& pool, const Node* n) {
  if ((used_ + 1) * 4 > slots_.size() * 3) Grow(pool);
  const size_t mask = slots_.size() - 1;
  size_t i = Home(n->hash_);
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = n->id_;
  ++used_;
}

void PathIndex::Grow(const NodePool& pool) {
  std::vector<uint32_t> old;
  old.swap(slots_);
  const size_t size = old.empty() ? 16 : old.size() * 2;
  slots_.assign(size, 0);
  shift_ = 32 - std::countr_zero(size);
  const size_t mask = size - 1;
  for (uint32_t id : old) {
    if (id == 0) continue;
    size_t i = Home(pool.At(id)->hash_);
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = id;
  }
}

void PathIndex::Erase(const NodePool& pool, const Node* n) {
  if (used_ == 0) return;
  const size_t mask = slots_.size() - 1;
  size_t i = Home(n->hash_);
  while (slots_[i] != n->id_) {
    if (slots_[i] == 0) return;
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: move later entries of the run into the hole
  // when their home slot does not lie (cyclically) in (hole, entry].
  for (size_t j = (i + 1) & mask; slots_[j] != 0; j = (j + 1) & mask) {
    const size_t home = Home(pool.At(slots_[j])->hash_);
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = 0;
  --used_;
}

}  // namespace aviary::tree
