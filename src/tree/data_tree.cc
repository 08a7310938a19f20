#include "tree/data_tree.h"

#include <algorithm>

#include "tree/path.h"

namespace aviary::tree {

void DataTree::Swap(DataTree& other) {
  std::swap(arena_, other.arena_);
  std::swap(pool_, other.pool_);
  std::swap(index_, other.index_);
  std::swap(root_, other.root_);
  std::swap(acls_, other.acls_);
  std::swap(ephemerals_, other.ephemerals_);
  std::swap(ephemeral_count_, other.ephemeral_count_);
  std::swap(containers_, other.containers_);
  std::swap(ttls_, other.ttls_);
  std::swap(data_size_, other.data_size_);
  std::swap(quotas_, other.quotas_);
  hashed_ = other.hashed_ = nullptr;
}

DataTree::DataTree() {
  const proto::AclList open = {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}};
  root_ = pool_.Alloc();
  root_->acl = acls_.Acquire(open);
  data_size_ += 1;  // "/"
  AddSystemNode("/zookeeper", open);
  AddSystemNode("/zookeeper/quota", open);
  // ZOOKEEPER-2014: /zookeeper/config is read-only for everyone; ZooKeeper
  // sets its ACL with setACL(..., version -1), leaving aversion at -1.
  AddSystemNode("/zookeeper/config", {proto::Acl{proto::perms::kRead, proto::Id{"world", "anyone"}}});
  Mutable("/zookeeper/config")->stat.set_aversion(-1);
}

void DataTree::AddSystemNode(const std::string& path, const proto::AclList& acl) {
  Node* parent = Mutable(NormalizeRoot(ParentOf(path)));
  Node* n = AddChild(parent, BaseName(path), {}, PathHash(path));
  n->acl = acls_.Acquire(acl);
  data_size_ += static_cast<int64_t>(path.size());
}

uint32_t DataTree::ChildHash(const Node& parent, std::string_view name) const {
  if (&parent != hashed_) {
    hashed_path_ = &parent == root_ ? std::string() : PathOf(parent);
    hashed_ = &parent;
  }
  const size_t parent_bytes = hashed_path_.size();
  hashed_path_.push_back('/');
  hashed_path_.append(name);
  const uint32_t h = PathHash(hashed_path_);
  hashed_path_.resize(parent_bytes);
  return h;
}

Node* DataTree::AddChild(Node* parent, std::string_view name, std::string_view data, uint32_t hash) {
  Node* n = pool_.Alloc();
  n->data.SetIn(arena_, name, data);
  n->parent_ = pool_.IdOf(parent);
  uintptr_t w = parent->data.link();
  ChildList::Insert(w, n, pool_.base());
  parent->data.SetLink(&arena_, w);
  index_.Insert(hash, pool_.IdOf(n));
  return n;
}

void DataTree::RemoveNode(Node* n, uint32_t hash) {
  if (n == hashed_) hashed_ = nullptr;
  index_.Erase(hash, pool_.IdOf(n));
  Node* parent = pool_.At(n->parent_);
  uintptr_t w = parent->data.link();
  ChildList::Erase(w, n->name());
  parent->data.SetLink(&arena_, w);
  n->data.ReleaseIn(arena_);
  pool_.Free(n);
}

void DataTree::Reserve(size_t nodes) {
  pool_.Reserve(nodes + 1);
  index_.Reserve(nodes);
}

std::string DataTree::PathOf(const Node& n) const {
  if (n.parent_id() == 0) return "/";
  std::string path(PathBytes(n), '\0');
  size_t end = path.size();
  for (const Node* p = &n; p->parent_id() != 0; p = pool_.At(p->parent_id())) {
    const std::string_view name = p->name();
    end -= name.size();
    path.replace(end, name.size(), name);
    path[--end] = '/';
  }
  return path;
}

size_t DataTree::PathBytes(const Node& n) const {
  if (n.parent_id() == 0) return 1;
  size_t bytes = 0;
  for (const Node* p = &n; p->parent_id() != 0; p = pool_.At(p->parent_id())) bytes += 1 + p->name().size();
  return bytes;
}

const Node* DataTree::Find(std::string_view path) const {
  path = NormalizeRoot(path);
  if (path == "/") return root_;
  return index_.Find(pool_, path, PathHash(path));
}

void DataTree::PrefetchPath(std::string_view path, bool deep) const {
  path = NormalizeRoot(path);
  if (path == "/") return;
  const uint32_t hash = PathHash(path);
  if (!deep) {
    index_.Prefetch(hash);
    return;
  }
  if (const Node* n = index_.Peek(pool_, hash)) {
    __builtin_prefetch(n);
    __builtin_prefetch(reinterpret_cast<const char*>(n) + sizeof(Node) - 1);
    n->data.Prefetch();
  }
}

const Node* DataTree::PrefetchStat(std::string_view path) const {
  path = NormalizeRoot(path);
  const Node* n = path == "/" ? root_ : index_.Peek(pool_, PathHash(path));
  if (n != nullptr) n->stat.Prefetch();
  return n;
}

Node* DataTree::Mutable(std::string_view path) { return const_cast<Node*>(Find(path)); }

std::vector<std::string> DataTree::EphemeralsOf(int64_t session) const {
  auto it = ephemerals_.find(session);
  if (it == ephemerals_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<int64_t> DataTree::SessionsWithEphemerals() const {
  std::vector<int64_t> out;
  for (const auto& [s, set] : ephemerals_) {
    if (!set.empty()) out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int32_t DataTree::DescendantCount(std::string_view path) const {
  const Node* start = Find(path);
  if (start == nullptr) return 0;
  int32_t count = 0;
  std::vector<const Node*> stack{start};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    const ChildList kids = n->children();
    count += static_cast<int32_t>(kids.size());
    for (auto it = kids.begin(); it != kids.end(); ++it) stack.push_back(it.node());
  }
  return count;
}

std::vector<std::string> DataTree::CleanupCandidates(int64_t now_ms, int64_t max_never_used_ms) const {
  std::vector<std::string> out;
  for (const std::string& p : containers_) {
    const Node* n = Find(p);
    if (n == nullptr || !n->children().empty()) continue;
    if (n->stat.cversion() > 0 || (max_never_used_ms != 0 && now_ms - n->stat.mtime() > max_never_used_ms)) {
      out.push_back(p);
    }
  }
  for (const std::string& p : ttls_) {
    const Node* n = Find(p);
    if (n == nullptr || !n->children().empty()) continue;
    if (n->ttl_ms() != 0 && now_ms - n->stat.mtime() > n->ttl_ms()) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

proto::Err DataTree::CreateNode(const std::string& path, std::string_view data, const proto::AclList& acl,
                                NodeKind kind, int64_t ephemeral_owner, int64_t ttl_ms, int32_t parent_cversion,
                                int64_t zxid, int64_t time_ms, bool data_null, const Node** created) {
  if (path.find('/') == std::string::npos) return proto::Err::kBadArguments;
  if (path == "/") return proto::Err::kNodeExists;
  Node* parent = Mutable(ParentOf(path));
  if (parent == nullptr) return proto::Err::kNoNode;
  const std::string_view child = BaseName(path);
  // The index holds every non-root node: one probe of the new path's hash
  // (needed for the insert anyway) instead of a binary search over the
  // parent's children (a name compare, i.e. a visit to a child's record, per
  // step: ~10 cache misses under a parent of 1000).
  const uint32_t hash = PathHash(path);
  if (index_.Find(pool_, path, hash) != nullptr) return proto::Err::kNodeExists;

  if (parent_cversion == -1) parent_cversion = parent->stat.cversion() + 1;
  if (parent_cversion > parent->stat.cversion()) {
    parent->stat.set_cversion(parent_cversion);
    parent->stat.set_pzxid(zxid);
  }
  Node* n = AddChild(parent, child, data, hash);
  n->data_null = data_null;
  n->acl = acls_.Acquire(acl);
  n->kind = kind;
  n->stat.Init(zxid, time_ms);
  n->set_ephemeral_owner(kind == NodeKind::kEphemeral   ? ephemeral_owner
                         : kind == NodeKind::kContainer ? kContainerOwner
                         : kind == NodeKind::kTtl       ? TtlOwner(ttl_ms)
                                                        : 0,
                         &arena_);
  Index(path, *n);
  data_size_ += static_cast<int64_t>(path.size() + data.size());
  QuotaAfterCreate(path, static_cast<int64_t>(data.size()));
  if (created != nullptr) *created = n;
  return proto::Err::kOk;
}

proto::Err DataTree::DeleteNode(const std::string& path, int64_t zxid) {
  if (path.find('/') == std::string::npos || path == "/") return proto::Err::kBadArguments;
  Node* parent = Mutable(ParentOf(path));
  if (parent == nullptr) return proto::Err::kNoNode;
  Node* n = parent->children().Get(BaseName(path));
  // ZooKeeper would orphan the children of a non-empty node; refuse instead
  // (prepare never emits such a delete; only a corrupt log could).
  if (n != nullptr && !n->children().empty()) return proto::Err::kNotEmpty;
  if (zxid > parent->stat.pzxid()) parent->stat.set_pzxid(zxid);

  if (n == nullptr) return proto::Err::kNoNode;
  const auto bytes = static_cast<int64_t>(n->data.size());
  acls_.Release(n->acl);
  data_size_ -= static_cast<int64_t>(path.size()) + bytes;
  Unindex(path, *n);
  RemoveNode(n, PathHash(path));
  QuotaAfterDelete(path, bytes);
  return proto::Err::kOk;
}

proto::Err DataTree::SetData(const std::string& path, std::string_view data, int32_t version, int64_t zxid,
                             int64_t time_ms, bool data_null) {
  const Node* n = Find(path);
  if (n == nullptr) return proto::Err::kNoNode;
  SetDataOf(*n, path, data, version, zxid, time_ms, data_null);
  return proto::Err::kOk;
}

void DataTree::SetDataOf(const Node& node, const std::string& path, std::string_view data, int32_t version,
                         int64_t zxid, int64_t time_ms, bool data_null) {
  Node* n = const_cast<Node*>(&node);  // this tree's node: the tree owns it
  const int64_t bytes_diff = static_cast<int64_t>(data.size()) - static_cast<int64_t>(n->data.size());
  data_size_ += bytes_diff;
  n->data.SetIn(arena_, n->name(), data);
  n->data_null = data_null;
  n->stat.set_mtime(time_ms);
  n->stat.set_mzxid(zxid);
  n->stat.set_version(version);
  if (!quotas_.empty()) {
    if (std::optional<std::string> prefix = quotas_.MaxPrefix(path)) UpdateQuotaStat(*prefix, bytes_diff, 0);
  }
}

proto::Err DataTree::SetAcl(const std::string& path, const proto::AclList& acl, int32_t aversion) {
  Node* n = Mutable(path);
  if (n == nullptr) return proto::Err::kNoNode;
  const AclCache::Ref old = n->acl;
  n->acl = acls_.Acquire(acl);
  acls_.Release(old);
  n->stat.set_aversion(aversion);
  return proto::Err::kOk;
}

proto::Err DataTree::SetCversionPzxid(const std::string& path, int32_t cversion, int64_t zxid) {
  Node* n = Mutable(path);
  if (n == nullptr) return proto::Err::kNoNode;
  if (cversion == -1) cversion = n->stat.cversion() + 1;
  if (cversion > n->stat.cversion()) {
    n->stat.set_cversion(cversion);
    n->stat.set_pzxid(zxid);
  }
  return proto::Err::kOk;
}

void DataTree::ForEach(const std::function<void(const std::string&, const Node&)>& fn) const {
  // Pre-order with one path buffer; a frame is (node, its path's length).
  std::string path;
  std::vector<std::pair<const Node*, size_t>> stack{{root_, 0}};
  while (!stack.empty()) {
    auto [n, len] = stack.back();
    stack.pop_back();
    path.resize(len);
    if (n != root_) {
      path.push_back('/');
      path.append(n->name());
    }
    fn(n == root_ ? std::string("/") : path, *n);
    const ChildList kids = n->children();
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.emplace_back((it.base() - 1).node(), path.size());
  }
}

size_t DataTree::ApproximateHeapBytes() const {
  size_t bytes = pool_.capacity_bytes() + index_.capacity_bytes();
  ForEach([&](const std::string&, const Node& n) {
    const size_t block = NodeBytes::BlockBytesFor(n.name().size(), n.data.size(), n.data.link() != 0);
    if (block != 0) bytes += BytesArena::Rounded(block);
    if (!n.children().empty()) bytes += 24 + sizeof(uint32_t) * n.children().size();
    if (n.stat.extended()) bytes += sizeof(StatExt);  // its entry in the process-wide pool
  });
  return bytes;
}

}  // namespace aviary::tree

namespace aviary::tree {

void DataTree::Unindex(const std::string& path, const Node& n) {
  switch (n.kind) {
    case NodeKind::kEphemeral: {
      auto e = ephemerals_.find(n.ephemeral_owner());
      if (e != ephemerals_.end() && e->second.erase(path) != 0) {
        --ephemeral_count_;
        if (e->second.empty()) ephemerals_.erase(e);
      }
      break;
    }
    case NodeKind::kContainer:
      containers_.erase(path);
      break;
    case NodeKind::kTtl:
      ttls_.erase(path);
      break;
    case NodeKind::kPersistent:
      break;
  }
}

void DataTree::Index(const std::string& path, const Node& n) {
  switch (n.kind) {
    case NodeKind::kEphemeral:
      if (ephemerals_[n.ephemeral_owner()].insert(path).second) ++ephemeral_count_;
      break;
    case NodeKind::kContainer:
      containers_.insert(path);
      break;
    case NodeKind::kTtl:
      ttls_.insert(path);
      break;
    case NodeKind::kPersistent:
      break;
  }
}

// RestoreNode's in-place part: `n` (at `path`, "" when it is a fresh
// persistent node whose path the indexes do not need) takes the value.
void DataTree::Overwrite(Node* n, std::string_view path, const StatPersisted& stat, NodeKind kind,
                         std::string_view data, bool data_null, const proto::AclList& acl) {
  std::string p;
  if (n->kind != NodeKind::kPersistent || kind != NodeKind::kPersistent) p = path.empty() ? PathOf(*n) : path;
  if (n->acl != 0) {
    Unindex(p, *n);
    acls_.Release(n->acl);
  }
  data_size_ += static_cast<int64_t>(data.size()) - static_cast<int64_t>(n->data.size());
  if (data.data() != n->data.data()) n->data.SetIn(arena_, n->name(), data);
  n->data_null = data_null;
  n->set_persisted(stat, &arena_);
  n->kind = kind;
  n->acl = acls_.Acquire(acl);
  Index(p, *n);
}

proto::Err DataTree::RestoreNode(const std::string& path, const Node& node, const proto::AclList& acl) {
  if (path.empty() || path[0] != '/') return proto::Err::kBadArguments;
  Node* n = Mutable(path);
  if (n == nullptr) {
    if (path == "/") return proto::Err::kBadArguments;
    Node* parent = Mutable(NormalizeRoot(ParentOf(path)));
    if (parent == nullptr) return proto::Err::kNoNode;
    n = AddChild(parent, BaseName(path), {}, PathHash(path));
    data_size_ += static_cast<int64_t>(path.size());
  }
  Overwrite(n, path, node.persisted(), node.kind, node.data, node.data_null, acl);
  return proto::Err::kOk;
}

const Node* DataTree::LoadNode(const Node* parent, std::string_view name, const StatPersisted& stat, NodeKind kind,
                               std::string_view data, bool data_null, const proto::AclList& acl) {
  if (name.find('/') != std::string_view::npos) return nullptr;
  auto* p = const_cast<Node*>(parent);
  const uint32_t hash = ChildHash(*p, name);
  index_.Prefetch(hash);  // the one cache miss of a fresh node; overlaps the copy below
  // Pre-order with sorted children: a new name sorts after the last one.
  const ChildList kids = p->children();
  Node* n = kids.empty() || *kids.rbegin() < name ? nullptr : kids.Get(name);
  if (n != nullptr) {
    Overwrite(n, {}, stat, kind, data, data_null, acl);
    return n;
  }
  n = AddChild(p, name, data, hash);
  n->data_null = data_null;
  n->set_persisted(stat, &arena_);
  n->kind = kind;
  n->acl = acls_.Acquire(acl);
  // ChildHash left the parent's path in hashed_path_.
  data_size_ += static_cast<int64_t>(hashed_path_.size() + 1 + name.size() + data.size());
  if (kind != NodeKind::kPersistent) Index(hashed_path_ + "/" + std::string(name), *n);
  return n;
}

}  // namespace aviary::tree
