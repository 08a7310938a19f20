#include "tree/data_tree.h"

#include <algorithm>

#include "tree/path.h"

namespace aviary::tree {
namespace {

int64_t NodeSize(std::string_view path, const std::string& data) {
  return static_cast<int64_t>(path.size() + data.size());
}

}  // namespace

void DataTree::Swap(DataTree& other) {
  std::swap(nodes_, other.nodes_);
  std::swap(acls_, other.acls_);
  std::swap(ephemerals_, other.ephemerals_);
  std::swap(ephemeral_count_, other.ephemeral_count_);
  std::swap(containers_, other.containers_);
  std::swap(ttls_, other.ttls_);
  std::swap(data_size_, other.data_size_);
  std::swap(quotas_, other.quotas_);
}

DataTree::DataTree() {
  const proto::AclList open = {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}};
  auto root = std::make_unique<Node>();
  root->acl = acls_.Acquire(open);
  data_size_ += NodeSize("/", root->data);
  nodes_.emplace("/", std::move(root));
  AddSystemNode("/zookeeper", open);
  AddSystemNode("/zookeeper/quota", open);
  // ZOOKEEPER-2014: /zookeeper/config is read-only for everyone; ZooKeeper
  // sets its ACL with setACL(..., version -1), leaving aversion at -1.
  AddSystemNode("/zookeeper/config", {proto::Acl{proto::perms::kRead, proto::Id{"world", "anyone"}}});
  Mutable("/zookeeper/config")->stat.aversion = -1;
}

void DataTree::AddSystemNode(const std::string& path, const proto::AclList& acl) {
  auto n = std::make_unique<Node>();
  n->acl = acls_.Acquire(acl);
  data_size_ += NodeSize(path, n->data);
  Mutable(NormalizeRoot(ParentOf(path)))->children.emplace(BaseName(path));
  nodes_.emplace(path, std::move(n));
}

const Node* DataTree::Find(std::string_view path) const {
  auto it = nodes_.find(NormalizeRoot(path));
  return it == nodes_.end() ? nullptr : it->second.get();
}

Node* DataTree::Mutable(std::string_view path) {
  auto it = nodes_.find(NormalizeRoot(path));
  return it == nodes_.end() ? nullptr : it->second.get();
}

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
  std::vector<std::string> stack;
  const std::string base = NormalizeRoot(path) == "/" ? std::string() : std::string(path);
  for (const std::string& c : start->children) stack.push_back(base + "/" + c);
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    ++count;
    if (const Node* n = Find(p)) {
      for (const std::string& c : n->children) stack.push_back(p + "/" + c);
    }
  }
  return count;
}

std::vector<std::string> DataTree::CleanupCandidates(int64_t now_ms, int64_t max_never_used_ms) const {
  std::vector<std::string> out;
  for (const std::string& p : containers_) {
    const Node* n = Find(p);
    if (n == nullptr || !n->children.empty()) continue;
    if (n->stat.cversion > 0 || (max_never_used_ms != 0 && now_ms - n->stat.mtime > max_never_used_ms)) {
      out.push_back(p);
    }
  }
  for (const std::string& p : ttls_) {
    const Node* n = Find(p);
    if (n == nullptr || !n->children.empty()) continue;
    if (n->ttl_ms != 0 && now_ms - n->stat.mtime > n->ttl_ms) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

proto::Err DataTree::CreateNode(const std::string& path, std::string data, const proto::AclList& acl, NodeKind kind,
                                int64_t ephemeral_owner, int64_t ttl_ms, int32_t parent_cversion, int64_t zxid,
                                int64_t time_ms, bool data_null) {
  if (path.find('/') == std::string::npos) return proto::Err::kBadArguments;
  if (path == "/") return proto::Err::kNodeExists;
  Node* parent = Mutable(ParentOf(path));
  if (parent == nullptr) return proto::Err::kNoNode;
  const std::string child(BaseName(path));
  if (parent->children.count(child) != 0 || nodes_.count(path) != 0) return proto::Err::kNodeExists;

  if (parent_cversion == -1) parent_cversion = parent->stat.cversion + 1;
  if (parent_cversion > parent->stat.cversion) {
    parent->stat.cversion = parent_cversion;
    parent->stat.pzxid = zxid;
  }
  auto n = std::make_unique<Node>();
  n->data = std::move(data);
  n->data_null = data_null;
  n->acl = acls_.Acquire(acl);
  n->kind = kind;
  n->ttl_ms = kind == NodeKind::kTtl ? ttl_ms : 0;
  n->stat.czxid = n->stat.mzxid = n->stat.pzxid = zxid;
  n->stat.ctime = n->stat.mtime = time_ms;
  n->stat.ephemeral_owner = kind == NodeKind::kEphemeral   ? ephemeral_owner
                            : kind == NodeKind::kContainer ? kContainerOwner
                            : kind == NodeKind::kTtl       ? TtlOwner(ttl_ms)
                                                           : 0;
  Index(path, *n);
  parent->children.insert(child);
  data_size_ += NodeSize(path, n->data);
  const auto bytes = static_cast<int64_t>(n->data.size());
  nodes_.emplace(path, std::move(n));
  QuotaAfterCreate(path, bytes);
  return proto::Err::kOk;
}

proto::Err DataTree::DeleteNode(const std::string& path, int64_t zxid) {
  if (path.find('/') == std::string::npos || path == "/") return proto::Err::kBadArguments;
  Node* parent = Mutable(ParentOf(path));
  if (parent == nullptr) return proto::Err::kNoNode;
  auto it = nodes_.find(std::string_view(path));
  // ZooKeeper would orphan the children of a non-empty node; refuse instead
  // (prepare never emits such a delete; only a corrupt log could).
  if (it != nodes_.end() && !it->second->children.empty()) return proto::Err::kNotEmpty;
  const std::string child(BaseName(path));
  parent->children.erase(child);
  if (zxid > parent->stat.pzxid) parent->stat.pzxid = zxid;

  if (it == nodes_.end()) return proto::Err::kNoNode;
  std::unique_ptr<Node> n = std::move(it->second);
  nodes_.erase(it);
  acls_.Release(n->acl);
  data_size_ -= NodeSize(path, n->data);
  Unindex(path, *n);
  QuotaAfterDelete(path, static_cast<int64_t>(n->data.size()));
  return proto::Err::kOk;
}

proto::Err DataTree::SetData(const std::string& path, std::string data, int32_t version, int64_t zxid, int64_t time_ms,
                             bool data_null) {
  Node* n = Mutable(path);
  if (n == nullptr) return proto::Err::kNoNode;
  const int64_t bytes_diff = static_cast<int64_t>(data.size()) - static_cast<int64_t>(n->data.size());
  data_size_ += bytes_diff;
  n->data = std::move(data);
  n->data_null = data_null;
  n->stat.mtime = time_ms;
  n->stat.mzxid = zxid;
  n->stat.version = version;
  if (!quotas_.empty()) {
    if (std::optional<std::string> prefix = quotas_.MaxPrefix(path)) UpdateQuotaStat(*prefix, bytes_diff, 0);
  }
  return proto::Err::kOk;
}

proto::Err DataTree::SetAcl(const std::string& path, const proto::AclList& acl, int32_t aversion) {
  Node* n = Mutable(path);
  if (n == nullptr) return proto::Err::kNoNode;
  const AclCache::Ref old = n->acl;
  n->acl = acls_.Acquire(acl);
  acls_.Release(old);
  n->stat.aversion = aversion;
  return proto::Err::kOk;
}

proto::Err DataTree::SetCversionPzxid(const std::string& path, int32_t cversion, int64_t zxid) {
  Node* n = Mutable(path);
  if (n == nullptr) return proto::Err::kNoNode;
  if (cversion == -1) cversion = n->stat.cversion + 1;
  if (cversion > n->stat.cversion) {
    n->stat.cversion = cversion;
    n->stat.pzxid = zxid;
  }
  return proto::Err::kOk;
}

void DataTree::ForEach(const std::function<void(const std::string&, const Node&)>& fn) const {
  for (const auto& [p, n] : nodes_) fn(p, *n);
}

}  // namespace aviary::tree

namespace aviary::tree {

void DataTree::Unindex(const std::string& path, const Node& n) {
  switch (n.kind) {
    case NodeKind::kEphemeral: {
      auto e = ephemerals_.find(n.stat.ephemeral_owner);
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
      if (ephemerals_[n.stat.ephemeral_owner].insert(path).second) ++ephemeral_count_;
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

proto::Err DataTree::RestoreNode(const std::string& path, const Node& node, const proto::AclList& acl) {
  if (path.empty() || path[0] != '/') return proto::Err::kBadArguments;
  Node* n = Mutable(path);
  if (n == nullptr) {
    if (path == "/") return proto::Err::kBadArguments;
    Node* parent = Mutable(NormalizeRoot(ParentOf(path)));
    if (parent == nullptr) return proto::Err::kNoNode;
    parent->children.emplace(BaseName(path));
    auto fresh = std::make_unique<Node>();
    n = fresh.get();
    nodes_.emplace(path, std::move(fresh));
    data_size_ += static_cast<int64_t>(path.size());
  } else {
    Unindex(path, *n);
    acls_.Release(n->acl);
  }
  data_size_ += static_cast<int64_t>(node.data.size()) - static_cast<int64_t>(n->data.size());
  n->data = node.data;
  n->data_null = node.data_null;
  n->stat = node.stat;
  n->kind = node.kind;
  n->ttl_ms = node.kind == NodeKind::kTtl ? node.ttl_ms : 0;
  n->acl = acls_.Acquire(acl);
  Index(path, *n);
  return proto::Err::kOk;
}

}  // namespace aviary::tree
