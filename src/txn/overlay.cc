#include "txn/overlay.h"

#include "tree/path.h"

namespace aviary::txn {

std::optional<NodeRec> Overlay::Get(std::string_view path) const {
  const std::string key(tree::NormalizeRoot(path));
  auto it = latest_.find(key);
  if (it != latest_.end()) {
    if (!it->second->rec.exists) return std::nullopt;
    return it->second->rec;
  }
  const tree::Node* n = tree_.Find(key);
  if (n == nullptr) return std::nullopt;
  NodeRec r;
  r.exists = true;
  r.stat = n->stat;
  r.kind = n->kind;
  r.child_count = static_cast<int32_t>(n->children.size());
  r.data_bytes = static_cast<int64_t>(n->data.size());
  r.acl = std::make_shared<const proto::AclList>(tree_.AclOf(*n));
  return r;
}

void Overlay::Put(std::string_view path, NodeRec rec) {
  auto e = std::make_shared<Entry>(Entry{std::string(tree::NormalizeRoot(path)), std::move(rec)});
  auto it = latest_.find(e->path);
  if (recording_) undo_.emplace_back(e->path, it == latest_.end() ? nullptr : it->second);
  latest_[e->path] = e;
  queue_.push_back(std::move(e));
}

void Overlay::Begin() {
  recording_ = true;
  mark_ = queue_.size();
  undo_.clear();
}

void Overlay::Rollback() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    if (it->second) {
      latest_[it->first] = it->second;
    } else {
      latest_.erase(it->first);
    }
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
    auto it = latest_.find(queue_.front()->path);
    if (it != latest_.end() && it->second == queue_.front()) latest_.erase(it);
    queue_.pop_front();
  }
}

void Overlay::Clear() {
  queue_.clear();
  latest_.clear();
  undo_.clear();
  recording_ = false;
}

}  // namespace aviary::txn
