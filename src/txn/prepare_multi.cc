// Preparer: multi, session and container-cleanup txns.
#include <map>
#include <set>
#include <string_view>

#include "tree/path.h"
#include "txn/prepare.h"

namespace aviary::txn {
namespace {

using proto::Err;
using proto::OpCode;

Op ErrorOp(Err err) { return Op{OpCode::kError, ErrorTxn{err}}; }

bool IsCreate(OpCode t) {
  return t == OpCode::kCreate || t == OpCode::kCreate2 || t == OpCode::kCreateContainer || t == OpCode::kCreateTtl;
}

// MultiOperationRecord decoding: which op type ZooKeeper ends up with (a
// create whose flags say container/TTL becomes createContainer/createTTL),
// or kError when the op makes the whole multi undecodable.
OpCode EffectiveType(const proto::MultiOp& op) {
  if (IsCreate(op.type)) {
    const auto* c = std::get_if<proto::CreateRequest>(&op.body);
    if (c == nullptr || c->flags < 0 || c->flags > 6) return OpCode::kError;
    if (c->flags == 5 || c->flags == 6) return OpCode::kCreateTtl;
    if (c->flags == 4) return OpCode::kCreateContainer;
    return op.type;
  }
  switch (op.type) {
    case OpCode::kDelete:
      return std::holds_alternative<proto::DeleteRequest>(op.body) ? op.type : OpCode::kError;
    case OpCode::kSetData:
      return std::holds_alternative<proto::SetDataRequest>(op.body) ? op.type : OpCode::kError;
    case OpCode::kCheck:
      return std::holds_alternative<proto::CheckVersionRequest>(op.body) ? op.type : OpCode::kError;
    default:
      return OpCode::kError;  // reads (or anything else) in a write multi
  }
}

}  // namespace

Txn Preparer::PrepMulti(proto::MultiRequest& m, const SessionCtx& ctx, Txn t) {
  std::vector<OpCode> types;
  types.reserve(m.ops.size());
  for (const proto::MultiOp& op : m.ops) {
    types.push_back(EffectiveType(op));
    if (types.back() == OpCode::kError) {
      t.type = OpCode::kError;
      t.op = ErrorOp(Err::kMarshallingError);
      return t;
    }
  }
  t.type = OpCode::kMulti;
  t.multi.reserve(m.ops.size());
  overlay_.Begin();
  const size_t quota_mark = quota_.Mark();
  size_t failed_at = m.ops.size();
  int64_t used = 0;
  for (size_t i = 0; i < m.ops.size(); ++i) {
    if (failed_at < i) {
      t.multi.push_back(ErrorOp(Err::kRuntimeInconsistency));
      continue;
    }
    Op op;
    Err err = Err::kOk;
    proto::MultiOp& mop = m.ops[i];
    if (IsCreate(types[i])) {
      err = PrepCreate(types[i], std::get<proto::CreateRequest>(mop.body), ctx, t.zxid, t.time_ms, &op);
    } else if (types[i] == OpCode::kDelete) {
      err = PrepDelete(std::get<proto::DeleteRequest>(mop.body), ctx, t.zxid, &op);
    } else if (types[i] == OpCode::kSetData) {
      err = PrepSetData(std::get<proto::SetDataRequest>(mop.body), ctx, t.zxid, t.time_ms, &op);
    } else {
      err = PrepCheck(std::get<proto::CheckVersionRequest>(mop.body), ctx, &op);
    }
    if (err == Err::kOk && !WithinBound(op, &used)) err = Err::kBadArguments;
    if (err == Err::kOk) {
      t.multi.push_back(std::move(op));
    } else {
      failed_at = i;
      t.multi.push_back(ErrorOp(err));
      overlay_.Rollback();
      quota_.RollbackTo(quota_mark);
    }
  }
  if (failed_at == m.ops.size()) {
    overlay_.Commit();
  } else {
    for (size_t i = 0; i < failed_at; ++i) t.multi[i] = ErrorOp(Err::kOk);
  }
  return t;
}

Txn Preparer::PrepareCreateSession(int64_t session, int32_t timeout_ms, int64_t zxid, int64_t now_ms) {
  Txn t;
  t.session_id = session;
  t.zxid = zxid;
  t.time_ms = now_ms;
  t.type = OpCode::kCreateSession;
  t.op = Op{OpCode::kCreateSession, CreateSessionTxn{timeout_ms}};
  return t;
}

Txn Preparer::PrepareCloseSession(int64_t session, int64_t zxid, int64_t now_ms, int32_t cxid) {
  std::vector<std::string> listed = tree_.EphemeralsOf(session);
  std::set<std::string> es(listed.begin(), listed.end());
  overlay_.ForEachQueued([&](const std::string& path, const NodeRec& rec) {
    if (!rec.exists) {
      es.erase(path);
    } else if (rec.kind == tree::NodeKind::kEphemeral && rec.stat.ephemeral_owner == session) {
      es.insert(path);
    }
  });
  // One overlay record per parent (not per ephemeral): paths may be long.
  std::map<std::string_view, int32_t> per_parent;
  for (const std::string& path : es) ++per_parent[tree::ParentOf(path)];
  for (const auto& [parent_path, n] : per_parent) {
    if (std::optional<NodeRec> parent = overlay_.Get(parent_path)) {
      parent->zxid = zxid;
      parent->child_count -= n;
      parent->stat.pzxid = zxid;
      overlay_.Put(parent_path, std::move(*parent));
    }
  }
  for (const std::string& path : es) PutDeleted(path, zxid);
  Txn t;
  t.session_id = session;
  t.cxid = cxid;
  t.zxid = zxid;
  t.time_ms = now_ms;
  t.type = OpCode::kCloseSession;
  // No paths in the txn: apply sweeps the session's ephemerals.
  t.op = Op{OpCode::kCloseSession, CloseSessionTxn{}};
  return t;
}

Txn Preparer::PrepareDeleteContainer(const std::string& path, int64_t zxid, int64_t now_ms) {
  Txn t;
  t.zxid = zxid;
  t.time_ms = now_ms;
  auto fail = [&](Err e) {
    t.type = OpCode::kError;
    t.op = ErrorOp(e);
    return t;
  };
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || path.find('\0') != std::string::npos || path == "/" || path == "/zookeeper" ||
      path == "/zookeeper/quota" || path == "/zookeeper/config") {
    return fail(Err::kBadArguments);
  }
  const std::optional<NodeRec> node = overlay_.Get(path);
  if (!node) return fail(Err::kNoNode);
  if (node->child_count > 0) return fail(Err::kNotEmpty);
  if (node->kind == tree::NodeKind::kEphemeral) return fail(Err::kBadVersion);
  const std::string parent_path = path.substr(0, slash);
  std::optional<NodeRec> parent = overlay_.Get(parent_path);
  if (!parent) return fail(Err::kNoNode);
  parent->zxid = zxid;
  parent->child_count--;
  parent->stat.pzxid = zxid;
  overlay_.Put(parent_path, std::move(*parent));
  PutDeleted(path, zxid);
  t.type = OpCode::kDeleteContainer;
  t.op = Op{OpCode::kDeleteContainer, DeleteTxn{path}};
  return t;
}

}  // namespace aviary::txn
