// Pending changes of txns prepared but not yet applied (ZooKeeper's
// outstandingChanges / ChangeRecord). Preparer reads every node through
// Get(): the newest pending record for the path if any, else the tree.
// Single-threaded (the prepare thread, which is also the apply thread's
// caller or strictly serialized with it). Invariant: records are appended in
// zxid order; Applied(z) drops records with zxid <= z; a path's map entry is
// always its newest record still queued. No std::string is built to look a
// path up, and a node's ACL list is shared, not copied, per Get.
// Entries and map nodes of applied records are reused by later Puts, so a
// steady stream of writes allocates nothing here.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "proto/records.h"
#include "tree/data_tree.h"

namespace aviary::txn {

// A node as prepare sees it. `exists == false` marks a pending delete.
struct NodeRec {
  int64_t zxid = -1;  // txn that produced it; -1 when read from the tree
  bool exists = false;
  tree::StatPersisted stat;
  tree::NodeKind kind = tree::NodeKind::kPersistent;
  int32_t child_count = 0;
  int64_t data_bytes = 0;  // length of the node's data (quota accounting)
  std::shared_ptr<const proto::AclList> acl;
};

class Overlay {
 public:
  explicit Overlay(const tree::DataTree& tree) : tree_(tree) {}

  // The node as of all prepared txns; nullopt when absent (or pending delete).
  std::optional<NodeRec> Get(std::string_view path) const;
  // Records `rec` as the newest state of `path`.
  void Put(std::string_view path, NodeRec rec);

  // Multi support: Begin() starts recording undo information; Rollback()
  // removes every record put since Begin() and restores the previous state;
  // Commit() keeps them.
  void Begin();
  void Rollback();
  void Commit();

  // Drops records of txns with zxid <= `zxid` (they are now in the tree).
  void Applied(int64_t zxid);
  void Clear();
  size_t size() const { return queue_.size(); }

  // Every queued record in order, oldest first (for closeSession).
  template <typename Fn>
  void ForEachQueued(Fn&& fn) const {
    for (const auto& e : queue_) fn(e->path, e->rec);
  }

 private:
  struct Entry {
    std::string path;
    NodeRec rec;
  };
  // Lookups by string_view without building a std::string per call.
  struct PathHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // The node's ACL as a shared list, one per tree ACL reference while it
  // stays the same list (a released reference may be reused for another).
  std::shared_ptr<const proto::AclList> SharedAcl(const tree::Node& n) const;
  static constexpr size_t kMaxSharedAcls = 1024;
  // An entry for `path` holding `rec`: a recycled one when there is one.
  std::shared_ptr<Entry> NewEntry(std::string_view path, NodeRec&& rec);
  // Makes `e` the newest record of its path in latest_; returns the one it
  // replaced (or null). Reuses map nodes (no allocation once warm).
  std::shared_ptr<Entry> Link(const std::shared_ptr<Entry>& e);
  static constexpr size_t kMaxRecycled = 256;

  using LatestMap = std::unordered_map<std::string_view, std::shared_ptr<Entry>, PathHash, std::equal_to<>>;

  const tree::DataTree& tree_;
  std::deque<std::shared_ptr<Entry>> queue_;
  // Keys view the path of the entry they map to (kept alive by the value).
  LatestMap latest_;
  mutable std::unordered_map<uint32_t, std::shared_ptr<const proto::AclList>> acls_;
  // Applied entries and map nodes kept for reuse (up to kMaxRecycled each):
  // a write's Put and Applied then allocate nothing.
  std::vector<std::shared_ptr<Entry>> free_entries_;
  std::vector<LatestMap::node_type> free_nodes_;
  bool recording_ = false;
  size_t mark_ = 0;
  // (entry put, the entry it replaced in latest_ or null), oldest first.
  std::vector<std::pair<std::shared_ptr<Entry>, std::shared_ptr<Entry>>> undo_;
};

}  // namespace aviary::txn
