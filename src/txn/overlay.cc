#include "txn/overlay.h"

#include "tree/path.h"

namespace aviary::txn {

std::shared_ptr<const proto::AclList> Overlay::SharedAcl(const tree::Node& n) const {
  const proto::AclList& acl = tree_.AclOf(n);
  if (acls_.size() >= kMaxSharedAcls) acls_.clear();  // refs of deleted lists pile up otherwise
  auto& slot = acls_[n.acl];
  if (!slot || *slot != acl) slot = std::make_shared<const proto::AclList>(acl);
  return slot;
}

std::optional<NodeRec> Overlay::Get(std::string_view path) const {
  path = tree::NormalizeRoot(path);
  auto it = latest_.find(path);
  if (it != latest_.end()) {
    if (!it->second->rec.exists) return std::nullopt;
    return it->second->rec;
  }
  const tree::Node* n = tree_.Find(path);
  if (n == nullptr) return std::nullopt;
  NodeRec r;
  r.exists = true;
  r.stat = n->persisted();
  r.kind = n->kind;
  r.child_count = static_cast<int32_t>(n->children().size());
  r.data_bytes = static_cast<int64_t>(n->data.size());
  r.acl = SharedAcl(*n);
  return r;
}

std::shared_ptr<Overlay::Entry> Overlay::NewEntry(std::string_view path, NodeRec&& rec) {
  if (free_entries_.empty()) return std::make_shared<Entry>(Entry{std::string(path), std::move(rec)});
  std::shared_ptr<Entry> e = std::move(free_entries_.back());
  free_entries_.pop_back();
  e->path.assign(path);
  e->rec = std::move(rec);
  return e;
}

std::shared_ptr<Overlay::Entry> Overlay::Link(const std::shared_ptr<Entry>& e) {
  std::shared_ptr<Entry> replaced;
  LatestMap::node_type node;
  if (auto it = latest_.find(std::string_view(e->path)); it != latest_.end()) {
    node = latest_.extract(it);  // its key views the replaced entry's path
    replaced = std::move(node.mapped());
  } else if (!free_nodes_.empty()) {
    node = std::move(free_nodes_.back());
    free_nodes_.pop_back();
  } else {
    latest_.emplace(std::string_view(e->path), e);
    return replaced;
  }
  node.key() = std::string_view(e->path);
  node.mapped() = e;
  latest_.insert(std::move(node));
  return replaced;
}

void Overlay::Put(std::string_view path, NodeRec rec) {
  std::shared_ptr<Entry> e = NewEntry(tree::NormalizeRoot(path), std::move(rec));
  std::shared_ptr<Entry> replaced = Link(e);
  if (recording_) undo_.emplace_back(e, std::move(replaced));
  queue_.push_back(std::move(e));
}

void Overlay::Begin() {
  recording_ = true;
  mark_ = queue_.size();
  undo_.clear();
}

void Overlay::Rollback() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    latest_.erase(std::string_view(it->first->path));
    if (it->second) latest_.emplace(std::string_view(it->second->path), it->second);
  }
  queue_.resize(mark_);
  Commit();
}

void Overlay::Commit() {
  recording_ = false;
  undo_.clear();
}

void Overlay::Applied(int64_t zxid) {
  while (!queue_.empty() && queue_.front()->rec.zxid <= zxid) {
    std::shared_ptr<Entry> e = std::move(queue_.front());
    queue_.pop_front();
    auto it = latest_.find(std::string_view(e->path));
    if (it != latest_.end() && it->second == e) {
      LatestMap::node_type node = latest_.extract(it);
      node.mapped().reset();
      if (free_nodes_.size() < kMaxRecycled) free_nodes_.push_back(std::move(node));
    }
    // Only queue_ held it (undo_ is empty outside a prepare): reuse it.
    if (e.use_count() == 1 && free_entries_.size() < kMaxRecycled) {
      e->rec.acl.reset();
      free_entries_.push_back(std::move(e));
    }
  }
}

void Overlay::Clear() {
  queue_.clear();
  latest_.clear();
  free_entries_.clear();
  free_nodes_.clear();
  undo_.clear();
  acls_.clear();
  recording_ = false;
}

}  // namespace aviary::txn
