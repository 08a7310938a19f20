#include "zkformat/digest_inflight.h"

#include <algorithm>
#include <set>

#include "zkformat/digest_predict.h"

namespace aviary::zkformat {

namespace {

bool IsSingleError(const txn::Txn& t) { return t.type == proto::OpCode::kError; }

}  // namespace

void DigestPredictor::Clear() {
  nodes_.clear();
  order_.clear();
  last_zxid_ = 0;
  last_digest_ = 0;
}

// Drops the changes the tree already reflects (a path's entry goes once
// its newest change is applied).
void DigestPredictor::Sync(int64_t applied_zxid, int64_t next_zxid) {
  if (last_zxid_ == 0 || next_zxid != last_zxid_ + 1) Clear();
  while (!order_.empty() && order_.front().first <= applied_zxid) {
    auto it = nodes_.find(order_.front().second);
    if (it != nodes_.end() && it->second.zxid <= applied_zxid) nodes_.erase(it);
    order_.pop_front();
  }
}

void DigestPredictor::FillClosePaths(const tree::DataTree& tree, int64_t applied_zxid, txn::Txn* t) {
  if (t->type != proto::OpCode::kCloseSession) return;
  Sync(applied_zxid, t->zxid);
  auto* c = std::get_if<txn::CloseSessionTxn>(&t->op.body);
  if (c == nullptr || !c->paths_to_delete.empty()) return;
  std::set<std::string> paths;
  for (std::string& p : tree.EphemeralsOf(t->session_id)) {
    if (nodes_.count(p) == 0) paths.insert(std::move(p));  // else changed in flight: as below
  }
  for (const auto& [path, pending] : nodes_) {
    const std::optional<NodeValue>& n = pending.value;
    if (n && n->kind == tree::NodeKind::kEphemeral && n->stat.ephemeral_owner == t->session_id) paths.insert(path);
  }
  c->paths_to_delete.assign(paths.begin(), paths.end());
}

std::optional<int64_t> DigestPredictor::Predict(const tree::DataTree& tree, int64_t applied_zxid,
                                                int64_t applied_digest, txn::Txn* t) {
  Sync(applied_zxid, t->zxid);
  // Nothing in flight (or everything proposed so far applied): the tree's
  // own digest is the base (it also heals a wrong prediction).
  const int64_t before = (last_zxid_ == 0 || last_zxid_ <= applied_zxid) ? applied_digest : last_digest_;
  FillClosePaths(tree, applied_zxid, t);
  ValueLookup lookup = [this, &tree](std::string_view path) -> NodeBefore {
    auto it = nodes_.find(path);
    if (it == nodes_.end()) return NodeBefore{tree.Find(path), nullptr};
    return NodeBefore{nullptr, it->second.value ? &*it->second.value : nullptr};
  };
  const int64_t after = PredictDigest(before, lookup, *t, &changed_);
  for (PredictedNode& c : changed_) {
    order_.emplace_back(t->zxid, std::string(c.path));
    auto it = nodes_.find(c.path);
    if (it == nodes_.end()) it = nodes_.emplace(std::string(c.path), Pending{}).first;
    it->second = Pending{t->zxid, std::move(c.value)};
  }
  changed_.clear();
  last_zxid_ = t->zxid;
  last_digest_ = after;
  if (IsSingleError(*t)) return std::nullopt;
  return after;
}

}  // namespace aviary::zkformat
