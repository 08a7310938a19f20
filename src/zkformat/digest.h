// ZooKeeper's tree digest, digest version 2 (DigestCalculator,
// NodeHashMapImpl, AdHash in ZooKeeper 3.6+): each node's digest is the
// CRC-32 of its path ("/" counted as ""), its data and its persisted stat
// (czxid, mzxid, pzxid, ctime, mtime as 8-byte big-endian, version,
// cversion, aversion as 4 bytes, ephemeralOwner raw, 8 bytes); nodes under
// "/zookeeper/" count 0; the tree digest is the 64-bit wrapping sum of the
// node digests. Children and ACLs are not part of it.
//
// TreeDigestOf recomputes from scratch (O(nodes)). DigestTracker keeps it
// incrementally across txns at O(nodes the txn touches): call Before(tree,
// txn) just before txn::Apply and After(tree) right after. Single-threaded,
// reads the tree only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tree/data_tree.h"
#include "txn/txn.h"
#include "zkformat/checksum.h"

namespace aviary::zkformat {

// The node digest (0 for nodes under /zookeeper/).
uint64_t NodeDigest(std::string_view path, const tree::Node& n);
// NodeDigest in two steps, for a caller that keeps a node's value without
// its data (DigestPredictor): the CRC state after the path and the data
// (NodeDigestHead), then finished with the stat's 60 bytes (the node
// digest: NodeDigestFinish(path, NodeDigestHead(path, n.data), n.persisted())
// == NodeDigest(path, n)).
Crc32 NodeDigestHead(std::string_view path, std::string_view data);
uint64_t NodeDigestFinish(std::string_view path, Crc32 head, const tree::StatPersisted& s);
// Sum over every node of `tree` (ZooKeeper's DataTree.getTreeDigest()).
int64_t TreeDigestOf(const tree::DataTree& tree);

class DigestTracker {
 public:
  // Starts from TreeDigestOf(tree).
  void Reset(const tree::DataTree& tree);
  // Subtracts the digests of every node `t` can change (created, deleted or
  // modified nodes and their parents; for closeSession the session's
  // ephemerals), remembering the paths for After. `node`: for a lone
  // setData, its node as the caller has just looked it up in `tree`
  // (txn::LoneSetDataNode; nullptr: Before looks it up).
  void Before(const tree::DataTree& tree, const txn::Txn& t, const tree::Node* node = nullptr);
  // Adds the digests of the remembered paths as they are now.
  void After(const tree::DataTree& tree);
  int64_t value() const { return static_cast<int64_t>(sum_); }

  // Node digests After computed, by node: a node's digest before its next
  // change is the one its last change left (as ZooKeeper's DataNode caches
  // its digest), so Before mostly need not hash it again. Direct-mapped by
  // the node's address; an entry counts only while the node's mzxid, pzxid
  // and aversion are the ones it was computed with (every change of a
  // digest's input - data, stat, a new node at a freed address - moves one
  // of them; changes outside a tracked apply end with Reset), so a stale
  // entry is recomputed, never used.
  static constexpr size_t kCacheSlots = 4096;
  int64_t cache_hits() const { return cache_hits_; }
  // Starts loading `n`'s cache slot (for an applying loop that knows the
  // node a txn or two ahead: the slot is a line of a 128 KiB table read at
  // random). Changes nothing.
  void Prefetch(const tree::Node& n) const {
    if (cache_) __builtin_prefetch(&cache_[SlotIndex(n)]);
  }

 private:
  struct Cached {
    const tree::Node* node = nullptr;
    int64_t mzxid = 0;
    int64_t pzxid = 0;
    int32_t aversion = 0;
    uint32_t digest = 0;
  };
  static size_t SlotIndex(const tree::Node& n) {
    const auto a = reinterpret_cast<uintptr_t>(&n);
    return static_cast<size_t>(((a >> 4) * 0x9e3779b97f4a7c15ULL) >> (64 - 12));
  }
  Cached& SlotOf(const tree::Node& n) { return cache_[SlotIndex(n)]; }
  // NodeDigest(path, n), from the cache when it holds n as it is now.
  uint64_t KnownDigest(std::string_view path, const tree::Node& n);
  // NodeDigest(path, n), computed and kept in the cache.
  uint64_t FreshDigest(std::string_view path, const tree::Node& n);
  std::unique_ptr<Cached[]> cache_;  // kCacheSlots, allocated by the first FreshDigest
  int64_t cache_hits_ = 0;

  // Subtracts the digest of `path`'s node (`n`, or looked up when null).
  const tree::Node* Touch(const tree::DataTree& tree, const std::string& path, const tree::Node* n = nullptr);
  void AddOpPaths(const tree::DataTree& tree, int64_t session, const txn::Op& op);
  void Add(std::string_view path);
  uint64_t sum_ = 0;
  // The paths Before remembered are touched_[0, count_); the strings beyond
  // are kept for reuse (their capacity: no allocation per apply).
  std::vector<std::string> touched_;
  size_t count_ = 0;
  // A lone setData/setACL's node, found by Before, read again by After.
  const tree::Node* same_node_ = nullptr;
};

}  // namespace aviary::zkformat
