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
#include <string>
#include <string_view>
#include <vector>

#include "tree/data_tree.h"
#include "txn/txn.h"

namespace aviary::zkformat {

// The node digest (0 for nodes under /zookeeper/).
uint64_t NodeDigest(std::string_view path, const tree::Node& n);
// Sum over every node of `tree` (ZooKeeper's DataTree.getTreeDigest()).
int64_t TreeDigestOf(const tree::DataTree& tree);

class DigestTracker {
 public:
  // Starts from TreeDigestOf(tree).
  void Reset(const tree::DataTree& tree);
  // Subtracts the digests of every node `t` can change (created, deleted or
  // modified nodes and their parents; for closeSession the session's
  // ephemerals), remembering the paths for After.
  void Before(const tree::DataTree& tree, const txn::Txn& t);
  // Adds the digests of the remembered paths as they are now.
  void After(const tree::DataTree& tree);
  int64_t value() const { return static_cast<int64_t>(sum_); }

 private:
  const tree::Node* Touch(const tree::DataTree& tree, const std::string& path);
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
