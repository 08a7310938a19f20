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
  r.stat = n->stat;
  r.kind = n->kind;
  r.child_count = static_cast<int32_t>(n->children.size());
  r.data_bytes = static_cast<int64_t>(n->data.size());
  r.acl = SharedAcl(*n);
  return r;
}

void Overlay::Put(std::string_view path, NodeRec rec) {
  auto e = std::make_shared<Entry>(Entry{std::string(tree::NormalizeRoot(path)), std::move(rec)});
  std::shared_ptr<Entry> replaced;
  if (auto it = latest_.find(std::string_view(e->path)); it != latest_.end()) {
    replaced = std::move(it->second);
    latest_.erase(it);  // its key views the replaced entry's path
  }
  latest_.emplace(std::string_view(e->path), e);
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
    auto it = latest_.find(std::string_view(queue_.front()->path));
    if (it != latest_.end() && it->second == queue_.front()) latest_.erase(it);
    queue_.pop_front();
  }
}

void Overlay::Clear() {
  queue_.clear();
  latest_.clear();
  undo_.clear();
  acls_.clear();
  recording_ = false;
}

}  // namespace aviary::txn
