// Path -> node lookup for a DataTree without storing any path: an
// open-addressing hash set (linear probing) of 64-bit slots
// [32-bit path hash | 32-bit node id], hashed by the node's full path
// (PathHash). A probe compares the hash stored in the slot, so
// only a node whose full hash matches is visited, and verified by walking its
// parent links against the queried path. Growing never touches a node. Any
// table size (not only powers of two: the home slot is a multiply-shift), so
// the table tracks the node count in steps of 1.5x. The root is not in the
// index. A table of 4 MiB or more lives on huge pages (regions.h). Single-
// threaded, owned by one DataTree.
// Invariant: holds exactly the tree's non-root nodes, load <= 4/5.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "tree/node_pool.h"

namespace aviary::tree {

// The hash of a full path ("/a/b"), 8 bytes per step (a lookup hashes the
// whole path it is given; FNV-1a's byte-serial multiply chain cost ~4 cycles
// a byte). Deterministic, not keyed: a client choosing colliding paths only
// lengthens its own probe runs, every probe still verifies the path.
inline uint64_t PathHashMix(uint64_t x) {
  x *= 0xbf58476d1ce4e5b9ULL;
  return x ^ (x >> 29);
}
// The full 64-bit hash (the overlay of prepared changes keys on it).
inline uint64_t PathHash64(std::string_view path) {
  const char* p = path.data();
  size_t n = path.size();
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = PathHashMix(h ^ w);
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < n; ++i) tail |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return PathHashMix(PathHashMix(h ^ tail));
}
inline uint32_t PathHash(std::string_view path) { return static_cast<uint32_t>(PathHash64(path) >> 32); }

class PathIndex {
 public:
  // The node whose full path is `path` (hash = PathHash(path)), or nullptr.
  Node* Find(const NodePool& pool, std::string_view path, uint32_t hash) const;
  // Starts loading the cache line of `hash`'s home slot (bulk inserts).
  void Prefetch(uint32_t hash) const {
    if (slot_count_ != 0) __builtin_prefetch(&slots_[Home(hash)], 1);
  }
  // The first node in `hash`'s probe run whose slot holds `hash` (not
  // verified against a path: for prefetching), or nullptr. Reads at most a
  // few slots.
  const Node* Peek(const NodePool& pool, uint32_t hash) const;
  void Insert(uint32_t hash, uint32_t id);
  // Removes the entry (hash, id); absent entries are ignored.
  void Erase(uint32_t hash, uint32_t id);
  // Sizes the table for `entries` entries without further growth.
  void Reserve(size_t entries);
  size_t size() const { return used_; }
  size_t slot_count() const { return slot_count_; }
  size_t capacity_bytes() const { return slot_count_ * sizeof(uint64_t); }

 private:
  static uint64_t Slot(uint32_t hash, uint32_t id) { return static_cast<uint64_t>(hash) << 32 | id; }
  static uint32_t HashOf(uint64_t slot) { return static_cast<uint32_t>(slot >> 32); }
  // Multiply-shift onto [0, size) (one more multiply spreads any hash).
  size_t Home(uint32_t hash) const {
    const uint32_t mixed = hash * 2654435769u;
    return static_cast<size_t>((static_cast<uint64_t>(mixed) * slot_count_) >> 32);
  }
  size_t Next(size_t i) const { return i + 1 == slot_count_ ? 0 : i + 1; }
  void Rehash(size_t slots);
  void Place(uint64_t slot);

  // 0 = empty (id 0 is never used). Not a std::vector: a large table is
  // advised huge pages before it is first written (AdviseHugePages).
  std::unique_ptr<uint64_t[]> slots_;
  size_t slot_count_ = 0;
  size_t used_ = 0;
};

// True when `n` (a node of `pool`'s tree) has exactly the full path `path`
// ("/" for the root).
bool PathIs(const NodePool& pool, const Node* n, std::string_view path);

}  // namespace aviary::tree
