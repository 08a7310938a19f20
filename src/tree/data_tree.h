// The in-memory znode tree (ZooKeeper's DataTree). Owns every node (in a
// NodePool), the path index (PathIndex: no path strings are stored; a node
// has its name and a parent link), the ACL cache and the secondary indexes
// (ephemerals by session, containers, TTL nodes: paths, only for nodes of
// those kinds). Single-threaded: the server calls it from its one apply thread.
// It enforces no permissions and no client rules; txn::Apply is its only
// writer and txn::Preparer/ProcessRead read it.
// Invariants: "/" exists with /zookeeper, /zookeeper/quota,
// /zookeeper/config exactly as a fresh ZooKeeper 3.8 standalone server;
// every node but the root is in its parent's `children`; the indexes hold
// exactly the live nodes of their kind. "" is an alias of "/" on lookup, as
// in ZooKeeper. Mutators never leave the tree half-changed: on error they
// change nothing except where noted (DeleteNode, mirroring ZooKeeper).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/codes.h"
#include "proto/records.h"
#include "tree/acl_cache.h"
#include "tree/node.h"
#include "tree/node_pool.h"
#include "tree/path_index.h"
#include "tree/quota.h"

namespace aviary::tree {

class DataTree {
 public:
  DataTree();
  DataTree(const DataTree&) = delete;
  DataTree& operator=(const DataTree&) = delete;
  // Exchanges the whole contents with `other` (a learner installs a
  // snapshot its leader sent into the tree a server already owns).
  void Swap(DataTree& other);

  // nullptr when absent. "" finds the root. Pointers stay valid until the
  // node is deleted.
  const Node* Find(std::string_view path) const;
  const Node* Root() const { return root_; }
  // The full path of a node of this tree ("/" for the root).
  std::string PathOf(const Node& n) const;
  // The parent of a node of this tree; nullptr for the root.
  const Node* Parent(const Node& n) const { return n.parent_id() == 0 ? nullptr : pool_.At(n.parent_id()); }
  const proto::AclList& AclOf(const Node& n) const { return acls_.Get(n.acl); }
  static proto::Stat StatOf(const Node& n) { return ToStat(n); }

  // Starts loading what a lookup of `path` will touch, for a caller that
  // knows its next few paths (applying a group of txns): the index slot;
  // with `deep`, the node and its record too (the slot should be cached by
  // then: an earlier call without `deep`). Changes nothing.
  void PrefetchPath(std::string_view path, bool deep) const;
  // The third step: the pool entry of the node's stat when it is extended
  // (a node that was ever set or has children keeps its stat there, a line
  // the node does not share). Reads the node: call it after PrefetchPath(path,
  // true) had time to load it. Changes nothing; returns the node it read (a
  // hint, not verified against `path`; nullptr when none).
  const Node* PrefetchStat(std::string_view path) const;

  // Real nodes, root and system nodes included (4 on a fresh tree).
  // ZooKeeper's zk_znode_count reports NodeCount() + 1 (its root alias).
  size_t NodeCount() const { return index_.size() + 1; }
  size_t EphemeralCount() const { return ephemeral_count_; }
  // ZooKeeper's approximateDataSize: sum of path length + data length over
  // its node map, which holds the root twice ("" and "/").
  int64_t ApproximateDataSize() const { return data_size_; }
  size_t AclCount() const { return acls_.size(); }

  // The session's ephemeral paths, sorted.
  std::vector<std::string> EphemeralsOf(int64_t session) const;
  std::vector<int64_t> SessionsWithEphemerals() const;
  const std::set<std::string>& Containers() const { return containers_; }
  const std::set<std::string>& Ttls() const { return ttls_; }
  // Number of nodes strictly below `path` (getAllChildrenNumber); 0 if absent.
  int32_t DescendantCount(std::string_view path) const;

  // ContainerManager.getCandidates: empty containers with cversion > 0 (or,
  // when max_never_used_ms > 0, never-used ones older than that), and empty
  // TTL nodes with now - mtime > ttl. Sorted.
  std::vector<std::string> CleanupCandidates(int64_t now_ms, int64_t max_never_used_ms = 0) const;

  // --- low-level mutators (txn::Apply) -----------------------------------
  // DataTree.createNode: kNoNode without parent, kNodeExists if present.
  // Parent cversion/pzxid are raised to parent_cversion/zxid only when
  // parent_cversion > its cversion (-1 means "current + 1"). On success
  // *created (when given) is the new node.
  proto::Err CreateNode(const std::string& path, std::string_view data, const proto::AclList& acl, NodeKind kind,
                        int64_t ephemeral_owner, int64_t ttl_ms, int32_t parent_cversion, int64_t zxid, int64_t time_ms,
                        bool data_null = false, const Node** created = nullptr);
  // DataTree.deleteNode: kNoNode if parent or node is missing. As in
  // ZooKeeper, an existing parent's pzxid is raised to zxid even when the
  // node itself is missing. kNotEmpty (and no change) for a node with
  // children. The root and its alias cannot be deleted (kBadArguments).
  proto::Err DeleteNode(const std::string& path, int64_t zxid);
  proto::Err SetData(const std::string& path, std::string_view data, int32_t version, int64_t zxid, int64_t time_ms,
                     bool data_null = false);
  // SetData of `n`, a node of this tree whose path is `path` (the caller
  // looked it up: no second lookup). Always succeeds.
  void SetDataOf(const Node& n, const std::string& path, std::string_view data, int32_t version, int64_t zxid,
                 int64_t time_ms, bool data_null = false);
  proto::Err SetAcl(const std::string& path, const proto::AclList& acl, int32_t aversion);
  // DataTree.setCversionPzxid (replay fix-up); cversion -1 means current + 1.
  proto::Err SetCversionPzxid(const std::string& path, int32_t cversion, int64_t zxid);

  // Snapshot load: makes `path` hold exactly `node`'s data, null flag,
  // stat, kind and TTL with ACL `acl` (node.acl and node.children are
  // ignored). An existing node (e.g. the root or a system node) is
  // overwritten in place and keeps its children; otherwise the parent must
  // exist (kNoNode) and gains the child, its own stat untouched. Indexes
  // (ephemerals, containers, TTLs) and data size follow.
  proto::Err RestoreNode(const std::string& path, const Node& node, const proto::AclList& acl);
  // The bulk form of RestoreNode for a loader walking a snapshot in
  // pre-order: `name` under `parent` (a node of this tree, e.g. Root() or
  // what an earlier call returned), no lookup: the parent's path is built
  // once per run of its children (for the index hash), the node's name and
  // data go into the tree's arena, no malloc per node (a full path is made
  // only for ephemeral/container/TTL nodes, which the indexes key by path).
  // Children arriving in name order are appended in O(1). Same
  // semantics as RestoreNode(PathOf(*parent) + "/" + name, ...); returns the
  // node, or nullptr when `name` contains '/'.
  const Node* LoadNode(const Node* parent, std::string_view name, const StatPersisted& stat, NodeKind kind,
                       std::string_view data, bool data_null, const proto::AclList& acl);

  // Quotas (ZooKeeper's pTrie and zookeeper_stats upkeep, quota.h). The
  // mutators keep them as DataTree.createNode/deleteNode/setData do:
  // creating <quota>/zookeeper_limits makes a quota root, creating
  // <quota>/zookeeper_stats recounts its subtree into it, deleting the
  // limits node drops the root; every create/delete/setData under a root
  // adds its count/bytes change to the root's stats node. Stats nodes are
  // rewritten in place: their Stat (mzxid, version) does not change and
  // ApproximateDataSize does not follow (as in ZooKeeper). Nothing of this
  // is a txn: every server does it while applying the same txns.
  const QuotaIndex& quotas() const { return quotas_; }
  // DataTree.setupQuota, after a snapshot load (RestoreNode does no quota
  // upkeep): rebuilds the quota roots from the zookeeper_limits leaves under
  // /zookeeper/quota and recounts each root's stats node.
  void RebuildQuotas();
  // The parsed zookeeper_limits / zookeeper_stats of quota root `prefix`
  // (nullopt when that node is missing).
  std::optional<StatsTrack> QuotaLimits(std::string_view prefix) const;
  std::optional<StatsTrack> QuotaStats(std::string_view prefix) const;

  // Visits every node (path, node); order unspecified (today: pre-order,
  // children by name).
  void ForEach(const std::function<void(const std::string&, const Node&)>& fn) const;

  // Pre-sizes the node pool and the path index for `nodes` nodes (a bulk
  // loader that knows its count): no growth step while loading them.
  void Reserve(size_t nodes);

  // Bytes held by the tree's own structures (pool, index, names+data
  // blocks, child arrays), an estimate for tests and docs.
  size_t ApproximateHeapBytes() const;

 private:
  Node* Mutable(std::string_view path);
  // A new child `name` of `parent` with `data`, linked into the parent's
  // children and the index; the caller has checked it does not exist.
  // `hash` is the PathHash of the child's full path.
  Node* AddChild(Node* parent, std::string_view name, std::string_view data, uint32_t hash);
  // PathHash of `parent`'s path + "/" + name. The parent's path is built
  // from its ancestors only when it is not the parent asked last (a
  // pre-order load asks for one parent many times in a row).
  uint32_t ChildHash(const Node& parent, std::string_view name) const;
  // Unlinks and frees a childless non-root node whose path hashes to `hash`.
  void RemoveNode(Node* n, uint32_t hash);
  size_t PathBytes(const Node& n) const;
  void Overwrite(Node* n, std::string_view path, const StatPersisted& stat, NodeKind kind, std::string_view data,
                 bool data_null, const proto::AclList& acl);
  void AddSystemNode(const std::string& path, const proto::AclList& acl);
  void Unindex(const std::string& path, const Node& n);
  void Index(const std::string& path, const Node& n);
  // Quota upkeep (data_tree_quota.cc).
  void QuotaAfterCreate(std::string_view path, int64_t bytes);
  void QuotaAfterDelete(std::string_view path, int64_t bytes);
  void UpdateQuotaStat(const std::string& prefix, int64_t bytes_diff, int64_t count_diff);
  void RecountQuota(std::string_view path);

  BytesArena arena_;  // before pool_: nodes' blocks point into it
  NodePool pool_;
  PathIndex index_;
  Node* root_ = nullptr;
  AclCache acls_;
  std::unordered_map<int64_t, std::set<std::string>> ephemerals_;
  size_t ephemeral_count_ = 0;
  std::set<std::string> containers_;
  std::set<std::string> ttls_;
  int64_t data_size_ = 0;
  QuotaIndex quotas_;
  mutable const Node* hashed_ = nullptr;  // ChildHash's one-entry cache
  mutable std::string hashed_path_;       // hashed_'s path ("" for the root)
};

}  // namespace aviary::tree
