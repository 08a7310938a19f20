// Path -> node lookup for a DataTree without storing any path: an
// open-addressing hash set (linear probing, 32-bit node ids) whose entries
// are hashed by the node's full path (Node::hash_, PathHash) and compared by
// walking the node's parent links against the queried path. The root is not
// in the index. Single-threaded, owned by one DataTree.
// Invariant: holds exactly the tree's non-root nodes, load <= 3/4.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tree/node_pool.h"

namespace aviary::tree {

// FNV-1a over the path bytes; PathHashAppend(PathHash(p), s) ==
// PathHash(p + s), so a child's hash follows from its parent's. The root's
// hash is PathHash("") (children append "/" + name).
inline constexpr uint32_t kPathHashBasis = 2166136261u;
inline uint32_t PathHashAppend(uint32_t h, std::string_view bytes) {
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}
inline uint32_t PathHash(std::string_view path) { return PathHashAppend(kPathHashBasis, path); }

class PathIndex {
 public:
  // The node whose full path is `path` (hash = PathHash(path)), or nullptr.
  Node* Find(const NodePool& pool, std::string_view path, uint32_t hash) const;
  void Insert(const NodePool& pool, const Node* n);
  void Erase(const NodePool& pool, const Node* n);
  size_t size() const { return used_; }
  size_t capacity_bytes() const { return slots_.capacity() * sizeof(uint32_t); }

 private:
  size_t Home(uint32_t hash) const { return static_cast<uint32_t>(hash * 2654435769u) >> shift_; }
  void Grow(const NodePool& pool);

  std::vector<uint32_t> slots_;  // node ids, 0 = empty; size is a power of 2
  size_t used_ = 0;
  int shift_ = 32;
};

// True when `n`'s full path is exactly `path` ("/" for the root).
bool PathIs(const Node* n, std::string_view path);

}  // namespace aviary::tree
