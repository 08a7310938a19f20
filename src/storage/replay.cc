#include "storage/replay.h"

#include <string>
#include <vector>

#include "tree/path.h"
#include "txn/apply.h"

namespace aviary::storage {
namespace {

using proto::OpCode;

bool IsCreate(OpCode t) {
  return t == OpCode::kCreate || t == OpCode::kCreate2 || t == OpCode::kCreateContainer || t == OpCode::kCreateTtl;
}

std::string Join(const std::string& parent, const std::string& child) {
  return parent == "/" ? "/" + child : parent + "/" + child;
}

// Deletes every descendant of `path` (not `path` itself), children first.
void DeleteDescendants(tree::DataTree* tree, const std::string& path, int64_t zxid) {
  std::vector<std::string> order;
  std::vector<std::string> stack{path};
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    const tree::Node* n = tree->Find(p);
    if (n == nullptr) continue;
    for (const std::string& c : n->children) {
      order.push_back(Join(p, c));
      stack.push_back(order.back());
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) tree->DeleteNode(*it, zxid);
}

void ClearForDelete(tree::DataTree* tree, const std::string& path, int64_t zxid) {
  const tree::Node* n = tree->Find(path);
  if (n != nullptr && !n->children.empty() && path != "/" && !path.empty()) DeleteDescendants(tree, path, zxid);
}

void ReplayOp(tree::DataTree* tree, const txn::Txn& t, const txn::Op& op) {
  txn::Txn one;
  one.session_id = t.session_id;
  one.cxid = t.cxid;
  one.zxid = t.zxid;
  one.time_ms = t.time_ms;
  one.type = op.type;
  one.op = op;
  if (const auto* d = std::get_if<txn::DeleteTxn>(&op.body)) ClearForDelete(tree, d->path, t.zxid);
  if (const auto* c = std::get_if<txn::CloseSessionTxn>(&op.body)) {
    for (const std::string& p : c->paths_to_delete) ClearForDelete(tree, p, t.zxid);
  }
  const txn::ApplyResult r = txn::Apply(*tree, one);
  if (IsCreate(op.type) && op.type != OpCode::kCreate && r.err == proto::Err::kNodeExists) {
    if (const auto* c = std::get_if<txn::CreateTxn>(&op.body); c != nullptr && c->path.find('/') != std::string::npos) {
      tree->SetCversionPzxid(std::string(tree::NormalizeRoot(tree::ParentOf(c->path))), c->parent_cversion, t.zxid);
    }
  }
}

}  // namespace

void ReplayTxn(tree::DataTree* tree, const txn::Txn& t) {
  if (t.type != OpCode::kMulti) {
    ReplayOp(tree, t, t.op);
    return;
  }
  for (const txn::Op& op : t.multi) {
    if (op.type == OpCode::kError) return;  // a failed multi changes nothing
  }
  for (const txn::Op& op : t.multi) ReplayOp(tree, t, op);
}

}  // namespace aviary::storage
