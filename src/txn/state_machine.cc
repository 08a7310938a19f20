#include "txn/state_machine.h"

#include <string>
#include <vector>

#include "base/check.h"
#include "base/log.h"
#include "tree/path.h"

namespace aviary::txn {
namespace {

using proto::OpCode;

bool IsCreate(OpCode t) {
  return t == OpCode::kCreate || t == OpCode::kCreate2 || t == OpCode::kCreateContainer || t == OpCode::kCreateTtl;
}

std::string Join(const std::string& parent, std::string_view child) {
  return (parent == "/" ? std::string() : parent) + "/" + std::string(child);
}

// Deletes every descendant of `path` (not `path` itself), children first.
void DeleteDescendants(tree::DataTree& tree, const std::string& path, int64_t zxid) {
  std::vector<std::string> order;
  std::vector<std::string> stack{path};
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    const tree::Node* n = tree.Find(p);
    if (n == nullptr) continue;
    for (std::string_view c : n->children()) {
      order.push_back(Join(p, c));
      stack.push_back(order.back());
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) tree.DeleteNode(*it, zxid);
}

void ClearForDelete(tree::DataTree& tree, const std::string& path, int64_t zxid) {
  const tree::Node* n = tree.Find(path);
  if (n != nullptr && !n->children().empty() && path != "/" && !path.empty()) DeleteDescendants(tree, path, zxid);
}

// One op of `t` as a txn of its own, with the fuzzy fix-ups around it.
ApplyResult FuzzyOp(tree::DataTree& tree, const Txn& t, const Op& op) {
  Txn one;
  one.session_id = t.session_id;
  one.cxid = t.cxid;
  one.zxid = t.zxid;
  one.time_ms = t.time_ms;
  one.type = op.type;
  one.op = op;
  if (const auto* d = std::get_if<DeleteTxn>(&op.body)) ClearForDelete(tree, d->path, t.zxid);
  if (const auto* c = std::get_if<CloseSessionTxn>(&op.body)) {
    for (const std::string& p : c->paths_to_delete) ClearForDelete(tree, p, t.zxid);
  }
  ApplyResult r = txn::Apply(tree, one);
  if (IsCreate(op.type) && op.type != OpCode::kCreate && r.err == proto::Err::kNodeExists) {
    if (const auto* c = std::get_if<CreateTxn>(&op.body); c != nullptr && c->path.find('/') != std::string::npos) {
      tree.SetCversionPzxid(std::string(tree::NormalizeRoot(tree::ParentOf(c->path))), c->parent_cversion, t.zxid);
    }
  }
  return r;
}

}  // namespace

StateMachine::StateMachine() : owned_(std::make_unique<tree::DataTree>()), tree_(owned_.get()) {}

StateMachine::StateMachine(tree::DataTree* tree) : tree_(tree) {}

ApplyResult StateMachine::ApplyFuzzy(const Txn& t) {
  if (t.type != OpCode::kMulti) return FuzzyOp(*tree_, t, t.op);
  ApplyResult out;
  for (const Op& op : t.multi) {
    if (op.type == OpCode::kError) return out;  // a failed multi changes nothing
  }
  for (const Op& op : t.multi) {
    ApplyResult r = FuzzyOp(*tree_, t, op);
    for (auto& res : r.results) out.results.push_back(std::move(res));
    for (auto& trig : r.triggers) out.triggers.push_back(std::move(trig));
  }
  return out;
}

SessionChange StateMachine::ApplySessions(const Txn& t, bool tolerant, bool* fresh) {
  SessionChange c;
  c.session_id = t.session_id;
  *fresh = true;
  if (t.type == OpCode::kCreateSession) {
    const auto* body = std::get_if<CreateSessionTxn>(&t.op.body);
    c.kind = SessionChange::Kind::kCreated;
    c.timeout_ms = body != nullptr ? body->timeout_ms : 0;
    *fresh = sessions_.emplace(t.session_id, c.timeout_ms).second;
    AV_CHECK(*fresh || tolerant, "committed createSession {:#x} (zxid {:#x}) names a live session", t.session_id,
             t.zxid);
    if (!*fresh) sessions_[t.session_id] = c.timeout_ms;
  } else if (t.type == OpCode::kCloseSession) {
    c.kind = SessionChange::Kind::kClosed;
    sessions_.erase(t.session_id);
  }
  return c;
}

// The leader prepared `t`: whatever this state makes of it is applied, as
// ZooKeeper's DataTree.processTxn does; a different outcome is reported.
void StateMachine::ApplyAsLearner(const Txn& t, Applied& out) {
  bool fresh = true;
  if (t.zxid <= fuzzy_through_) {
    // Possibly reflected in the leader's fuzzy snapshot already.
    out.result = ApplyFuzzy(t);
    out.session = ApplySessions(t, true, &fresh);
    if (observer_ != nullptr) observer_->TreeChanged();
    return;
  }
  const bool ordered = ZxidFollows(last_zxid_, t.zxid);
  const tree::Node* node = LoneSetDataNode(*tree_, t);  // one lookup for the observer and the apply
  if (observer_ != nullptr) observer_->BeforeApply(*tree_, t, node);
  txn::ApplyTo(*tree_, t, watch_triggers_, node, &out.result);
  if (observer_ != nullptr) observer_->AfterApply(*tree_, t);
  out.session = ApplySessions(t, true, &fresh);
  out.as_prepared = ordered && fresh && AppliedAsPrepared(t, out.result);
  if (!out.as_prepared) {
    ++mismatches_;
    AV_LOG(kWarn,
           "learner: zxid {:#x} (op {}, session {:#x}) applied with err {}{}{}, not as the leader recorded it "
           "({} such txns so far)",
           t.zxid, static_cast<int>(t.type), t.session_id, static_cast<int>(FirstApplyError(out.result)),
           ordered ? "" : fmt::format(" out of order after {:#x}", last_zxid_),
           fresh ? "" : ", a createSession of a live session", mismatches_);
  }
}

void StateMachine::PrefetchStats(const Txn& t) const { PrefetchStatForApply(*tree_, t, observer_); }

Applied StateMachine::Apply(const Txn& t) {
  Applied out;
  Apply(t, &out);
  return out;
}

void StateMachine::Apply(const Txn& t, Applied* applied) {
  Applied& out = *applied;
  out.session = SessionChange{};
  out.as_prepared = true;
  bool fresh = true;
  if (fuzzy_) {
    out.result = ApplyFuzzy(t);
    out.session = ApplySessions(t, true, &fresh);
    if (observer_ != nullptr) observer_->TreeChanged();
  } else if (mode_ == ApplyMode::kLearner) {
    ApplyAsLearner(t, out);
  } else {
    AV_CHECK(ZxidFollows(last_zxid_, t.zxid), "applying zxid {:#x} out of order: the last applied is {:#x}", t.zxid,
             last_zxid_);
    const tree::Node* node = LoneSetDataNode(*tree_, t);  // one lookup for the observer and the apply
    if (observer_ != nullptr) observer_->BeforeApply(*tree_, t, node);
    txn::ApplyTo(*tree_, t, watch_triggers_, node, &out.result);
    if (observer_ != nullptr) observer_->AfterApply(*tree_, t);
    // Prepare validated this txn against the state it now applies to; a
    // different outcome means the tree and the preparer's view diverged.
    AV_CHECK(AppliedAsPrepared(t, out.result), "zxid {:#x} (op {}, session {:#x}) failed at apply with err {}", t.zxid,
             static_cast<int>(t.type), t.session_id, static_cast<int>(FirstApplyError(out.result)));
    out.session = ApplySessions(t, false, &fresh);
  }
  last_zxid_ = t.zxid;
}

}  // namespace aviary::txn
