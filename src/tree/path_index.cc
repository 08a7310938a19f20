#include "tree/path_index.h"

#include <algorithm>

#include "tree/regions.h"

namespace aviary::tree {
namespace {

constexpr size_t kMinSlots = 16;
// Load <= 4/5: linear probing with the hash in the slot stays short.
bool Full(size_t used, size_t slots) { return used * 5 >= slots * 4; }

}  // namespace

bool PathIs(const NodePool& pool, const Node* n, std::string_view path) {
  if (n->parent_id() == 0) return path == "/";
  while (n->parent_id() != 0) {
    const std::string_view name = n->name();
    if (path.size() <= name.size() || !path.ends_with(name) || path[path.size() - name.size() - 1] != '/') return false;
    path.remove_suffix(name.size() + 1);
    n = pool.At(n->parent_id());
  }
  return path.empty();
}

Node* PathIndex::Find(const NodePool& pool, std::string_view path, uint32_t hash) const {
  if (used_ == 0) return nullptr;
  for (size_t i = Home(hash);; i = Next(i)) {
    const uint64_t s = slots_[i];
    if (s == 0) return nullptr;
    if (HashOf(s) != hash) continue;
    Node* n = pool.At(static_cast<uint32_t>(s));
    if (PathIs(pool, n, path)) return n;
  }
}

const Node* PathIndex::Peek(const NodePool& pool, uint32_t hash) const {
  if (used_ == 0) return nullptr;
  size_t i = Home(hash);
  for (int k = 0; k < 4; ++k, i = Next(i)) {
    const uint64_t s = slots_[i];
    if (s == 0) return nullptr;
    if (HashOf(s) == hash) return pool.At(static_cast<uint32_t>(s));
  }
  return nullptr;
}

void PathIndex::Place(uint64_t slot) {
  size_t i = Home(HashOf(slot));
  while (slots_[i] != 0) i = Next(i);
  slots_[i] = slot;
}

void PathIndex::Insert(uint32_t hash, uint32_t id) {
  if (slot_count_ == 0 || Full(used_ + 1, slot_count_)) Rehash(std::max(kMinSlots, slot_count_ * 3 / 2));
  Place(Slot(hash, id));
  ++used_;
}

void PathIndex::Reserve(size_t entries) {
  const size_t want = entries * 5 / 4 + 1;
  if (want > slot_count_) Rehash(std::max(kMinSlots, want));
}

void PathIndex::Rehash(size_t slots) {
  std::unique_ptr<uint64_t[]> fresh(new uint64_t[slots]);  // not yet touched
  AdviseHugePages(fresh.get(), slots * sizeof(uint64_t));
  std::fill_n(fresh.get(), slots, uint64_t{0});
  std::unique_ptr<uint64_t[]> old = std::move(slots_);
  const size_t old_count = slot_count_;
  slots_ = std::move(fresh);
  slot_count_ = slots;
  for (size_t i = 0; i < old_count; ++i) {
    if (old[i] != 0) Place(old[i]);
  }
}

void PathIndex::Erase(uint32_t hash, uint32_t id) {
  if (used_ == 0) return;
  const uint64_t want = Slot(hash, id);
  size_t i = Home(hash);
  while (slots_[i] != want) {
    if (slots_[i] == 0) return;
    i = Next(i);
  }
  // Backward-shift deletion: move later entries of the run into the hole
  // when their home slot does not lie (cyclically) in (hole, entry].
  for (size_t j = Next(i); slots_[j] != 0; j = Next(j)) {
    const size_t home = Home(HashOf(slots_[j]));
    const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = 0;
  --used_;
}

}  // namespace aviary::tree
