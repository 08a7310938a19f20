// Pending changes of txns prepared but not yet applied (ZooKeeper's
// outstandingChanges / ChangeRecord). Preparer reads every node through
// Get(): the newest pending record for the path if any, else the tree.
// Single-threaded (the prepare thread, which is also the apply thread's
// caller or strictly serialized with it). Invariant: records are appended in
// zxid order; Applied(z) drops records with zxid <= z; a path's map entry is
// always its newest record still queued. No std::string is built to look a
// path up, and a node's ACL list is shared, not copied, per Get.
// Entries of applied records are reused by later Puts, so a steady stream
// of writes allocates nothing here.
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
    uint64_t hash = 0;  // PathHash64(path)
    NodeRec rec;
  };
  // latest_: each path's newest queued entry, an open-addressing table
  // (linear probing, a power of two of slots, at most half full) of
  // (path hash, entry) pairs: a lookup reads a slot (one line of a small
  // contiguous table) and the entry it names, where std::unordered_map
  // read a bucket, a list node and the entry, and hashed the path with
  // libstdc++'s murmur hash each time. An entry is named here only while
  // queue_ holds it (the newest of its path is always queued).
  struct Slot {
    uint64_t hash = 0;
    Entry* entry = nullptr;  // nullptr: empty
  };
  static uint64_t PathHash64(std::string_view path);
  // The slot naming `path`'s newest entry, or nullptr.
  const Slot* FindSlot(std::string_view path, uint64_t hash) const;
  // Makes `e` the newest entry of its path; returns the one it replaced
  // (or null).
  Entry* Link(Entry* e);
  // Removes `e` from latest_ if it is its path's newest entry.
  void Unlink(const Entry* e);
  void EraseAt(size_t i);
  void Grow();
  // The node's ACL as a shared list, one per tree ACL reference while it
  // stays the same list (a released reference may be reused for another).
  std::shared_ptr<const proto::AclList> SharedAcl(const tree::Node& n) const;
  static constexpr size_t kMaxSharedAcls = 1024;
  // An entry for `path` holding `rec`: a recycled one when there is one.
  std::shared_ptr<Entry> NewEntry(std::string_view path, uint64_t hash, NodeRec&& rec);
  static constexpr size_t kMaxRecycled = 256;
  static constexpr size_t kMinSlots = 64;

  const tree::DataTree& tree_;
  std::deque<std::shared_ptr<Entry>> queue_;
  std::vector<Slot> slots_;  // latest_ (empty until the first Put)
  size_t linked_ = 0;        // slots in use
  mutable std::unordered_map<uint32_t, std::shared_ptr<const proto::AclList>> acls_;
  // Applied entries kept for reuse (up to kMaxRecycled): a write's Put and
  // Applied then allocate nothing.
  std::vector<std::shared_ptr<Entry>> free_entries_;
  bool recording_ = false;
  size_t mark_ = 0;
  // (entry put, the entry it replaced in latest_ or null), oldest first;
  // both are in queue_ until Rollback drops the first.
  std::vector<std::pair<Entry*, Entry*>> undo_;
};

}  // namespace aviary::txn
