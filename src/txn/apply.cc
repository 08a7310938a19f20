#include "txn/apply.h"

#include "tree/path.h"
#include "txn/state_machine.h"

namespace aviary::txn {
namespace {

static_assert(static_cast<int>(tree::NodeKind::kEphemeral) == static_cast<int>(NodeKind::kEphemeral) &&
                  static_cast<int>(tree::NodeKind::kContainer) == static_cast<int>(NodeKind::kContainer) &&
                  static_cast<int>(tree::NodeKind::kTtl) == static_cast<int>(NodeKind::kTtl),
              "txn::NodeKind and tree::NodeKind must stay in step");

using proto::Err;
using proto::EventType;
using proto::OpCode;

std::string ParentForWatch(const std::string& path) { return std::string(tree::NormalizeRoot(tree::ParentOf(path))); }

proto::AclList AclAt(const tree::DataTree& tree, std::string_view path) {
  const tree::Node* n = tree.Find(path);
  return n == nullptr ? proto::AclList{} : tree.AclOf(*n);
}

// Deletes `path`; on success appends its NodeDeleted (checked against the
// node's ACL, read before it goes) and the parent's NodeChildrenChanged.
// `triggers` null: none wanted.
Err DeleteAndTrigger(tree::DataTree& tree, const std::string& path, int64_t zxid, std::vector<WatchTrigger>* triggers) {
  if (triggers == nullptr) return tree.DeleteNode(path, zxid);
  proto::AclList acl = AclAt(tree, path);
  const Err err = tree.DeleteNode(path, zxid);
  if (err != Err::kOk) return err;
  std::string parent = ParentForWatch(path);
  triggers->push_back({path, EventType::kNodeDeleted, std::move(acl)});
  triggers->push_back({parent, EventType::kNodeChildrenChanged, AclAt(tree, parent)});
  return Err::kOk;
}

OpResult ApplyCreate(tree::DataTree& tree, const Txn& txn, OpCode type, const CreateTxn& c,
                     std::vector<WatchTrigger>* triggers) {
  OpResult r{type, Err::kOk, c.path, {}};
  int64_t owner = 0;
  if (c.kind == NodeKind::kEphemeral) owner = c.ephemeral_owner != 0 ? c.ephemeral_owner : txn.session_id;
  const tree::Node* n = nullptr;
  r.err = tree.CreateNode(c.path, c.data, c.acl, static_cast<tree::NodeKind>(c.kind), owner, c.ttl_ms,
                          c.parent_cversion, txn.zxid, txn.time_ms, c.data_null, &n);
  if (r.err == Err::kOk) {
    r.stat = tree::ToStat(*n);
    if (triggers == nullptr) return r;
    std::string parent = ParentForWatch(c.path);
    triggers->push_back({c.path, EventType::kNodeCreated, tree.AclOf(*n)});
    triggers->push_back({parent, EventType::kNodeChildrenChanged, AclAt(tree, parent)});
  } else if (r.err == Err::kNodeExists && type == OpCode::kCreate) {
    // Replay over a fuzzy snapshot: bring the parent up to this create.
    const Err e = tree.SetCversionPzxid(std::string(tree::ParentOf(c.path)), c.parent_cversion, txn.zxid);
    if (e != Err::kOk) r.err = e;
  }
  return r;
}

// `found`: for a setData, its node as the caller found it (nullptr: look it up).
OpResult ApplyOp(tree::DataTree& tree, const Txn& txn, const Op& op, std::vector<WatchTrigger>* triggers,
                 const tree::Node* found = nullptr) {
  switch (op.type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
      if (const auto* c = std::get_if<CreateTxn>(&op.body)) return ApplyCreate(tree, txn, op.type, *c, triggers);
      break;
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      if (const auto* d = std::get_if<DeleteTxn>(&op.body)) {
        return OpResult{op.type, DeleteAndTrigger(tree, d->path, txn.zxid, triggers), d->path, {}};
      }
      break;
    case OpCode::kSetData:
      if (const auto* s = std::get_if<SetDataTxn>(&op.body)) {
        // No path: a setData's reply (single or in a multi) carries only the Stat.
        // One lookup (or none: `found`) serves the change, the Stat and the trigger.
        const tree::Node* n = found != nullptr ? found : tree.Find(s->path);
        if (n == nullptr) return OpResult{op.type, Err::kNoNode, {}, {}};
        tree.SetDataOf(*n, s->path, s->data, s->version, txn.zxid, txn.time_ms, s->data_null);
        OpResult r{op.type, Err::kOk, {}, tree::ToStat(*n)};
        if (triggers != nullptr) triggers->push_back({s->path, EventType::kNodeDataChanged, tree.AclOf(*n)});
        return r;
      }
      break;
    case OpCode::kSetAcl:
      if (const auto* s = std::get_if<SetAclTxn>(&op.body)) {
        OpResult r{op.type, tree.SetAcl(s->path, s->acl, s->version), s->path, {}};
        if (r.err == Err::kOk) r.stat = tree::ToStat(*tree.Find(s->path));
        return r;
      }
      break;
    case OpCode::kCheck:
      if (const auto* c = std::get_if<CheckTxn>(&op.body)) {
        OpResult r{op.type, Err::kOk, c->path, {}};
        if (const tree::Node* n = tree.Find(c->path)) r.stat = tree::ToStat(*n);
        return r;
      }
      break;
    case OpCode::kError:
      if (const auto* e = std::get_if<ErrorTxn>(&op.body)) return OpResult{OpCode::kError, e->err, {}, {}};
      break;
    default:
      break;
  }
  return OpResult{OpCode::kError, Err::kMarshallingError, {}, {}};
}

}  // namespace

const tree::Node* LoneSetDataNode(const tree::DataTree& tree, const Txn& txn) {
  if (txn.type != OpCode::kSetData) return nullptr;
  const auto* s = std::get_if<SetDataTxn>(&txn.op.body);
  return s == nullptr ? nullptr : tree.Find(s->path);
}

namespace {

// The path a single-op txn changes (nullptr: none, or a multi) and whether
// its parent changes too (create, delete).
const std::string* PrefetchedPath(const Txn& txn, bool* parent) {
  *parent = false;
  if (txn.type == OpCode::kMulti) return nullptr;
  if (const auto* c = std::get_if<CreateTxn>(&txn.op.body)) {
    *parent = true;
    return &c->path;
  }
  if (const auto* d = std::get_if<DeleteTxn>(&txn.op.body)) {
    *parent = true;
    return &d->path;
  }
  if (const auto* s = std::get_if<SetDataTxn>(&txn.op.body)) return &s->path;
  return nullptr;
}

}  // namespace

void PrefetchForApply(const tree::DataTree& tree, const Txn& txn, bool deep) {
  bool parent = false;
  const std::string* path = PrefetchedPath(txn, &parent);
  if (path == nullptr) return;
  tree.PrefetchPath(*path, deep);
  if (parent) tree.PrefetchPath(tree::ParentOf(*path), deep);
}

void PrefetchStatForApply(const tree::DataTree& tree, const Txn& txn, const ApplyObserver* observer) {
  bool parent = false;
  const std::string* path = PrefetchedPath(txn, &parent);
  if (path == nullptr) return;
  for (int i = 0; i < (parent ? 2 : 1); ++i) {
    const tree::Node* n = tree.PrefetchStat(i == 0 ? std::string_view(*path) : tree::ParentOf(*path));
    if (n != nullptr && observer != nullptr) observer->Prefetch(*n);
  }
}

namespace {

// The result type ZooKeeper reports inside a multi: it rebuilds each create
// op from its flags, so a create2 op answers as a plain create (path only)
// while container and TTL creates answer as create2 (path and stat).
OpCode WireType(OpCode t) {
  switch (t) {
    case OpCode::kCreate2:
      return OpCode::kCreate;
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
      return OpCode::kCreate2;
    case OpCode::kDeleteContainer:
      return OpCode::kDelete;
    default:
      return t;
  }
}

void ApplyCloseSession(tree::DataTree& tree, const Txn& txn, const CloseSessionTxn& c,
                       std::vector<WatchTrigger>* triggers) {
  for (const std::string& p : c.paths_to_delete) DeleteAndTrigger(tree, p, txn.zxid, triggers);
  // killSession also removes any ephemeral of the session the txn missed.
  for (const std::string& p : tree.EphemeralsOf(txn.session_id)) DeleteAndTrigger(tree, p, txn.zxid, triggers);
}

}  // namespace

ApplyResult Apply(tree::DataTree& tree, const Txn& txn, bool with_triggers, const tree::Node* found) {
  ApplyResult out;
  ApplyTo(tree, txn, with_triggers, found, &out);
  return out;
}

void ApplyTo(tree::DataTree& tree, const Txn& txn, bool with_triggers, const tree::Node* found, ApplyResult* result) {
  ApplyResult& out = *result;
  out.err = Err::kOk;
  out.results.clear();
  out.triggers.clear();
  std::vector<WatchTrigger>* triggers = with_triggers ? &out.triggers : nullptr;
  if (txn.type == OpCode::kMulti) {
    bool failed = false;
    for (const Op& op : txn.multi) failed = failed || op.type == OpCode::kError;
    bool post_failed = false;
    for (const Op& op : txn.multi) {
      OpResult r;
      if (op.type == OpCode::kError) post_failed = true;
      if (failed && op.type != OpCode::kError) {
        r = OpResult{OpCode::kError, post_failed ? Err::kRuntimeInconsistency : Err::kOk, {}, {}};
      } else {
        r = ApplyOp(tree, txn, op, triggers);
        if (r.err != Err::kOk && r.type != OpCode::kError) r = OpResult{OpCode::kError, r.err, {}, {}};
      }
      r.type = WireType(r.type);
      out.results.push_back(std::move(r));
    }
    return;
  }
  switch (txn.op.type) {
    case OpCode::kCreateSession:
      return;
    case OpCode::kCloseSession:
      if (const auto* c = std::get_if<CloseSessionTxn>(&txn.op.body)) {
        ApplyCloseSession(tree, txn, *c, triggers);
      } else {
        ApplyCloseSession(tree, txn, CloseSessionTxn{}, triggers);
      }
      return;
    default: {
      OpResult r = ApplyOp(tree, txn, txn.op, triggers, txn.op.type == OpCode::kSetData ? found : nullptr);
      out.err = r.err;
      out.results.push_back(std::move(r));
      return;
    }
  }
}

bool AppliedAsPrepared(const Txn& t, const ApplyResult& r) {
  if (t.type == OpCode::kMulti) {
    for (const Op& op : t.multi) {
      if (op.type == OpCode::kError) return true;  // a failed multi: all error results, no change
    }
    return r.results.size() == t.multi.size() && FirstMultiError(r) == Err::kOk;
  }
  switch (t.op.type) {
    case OpCode::kCreateSession:
    case OpCode::kCloseSession:
      return true;
    case OpCode::kError: {
      const auto* e = std::get_if<ErrorTxn>(&t.op.body);
      return e != nullptr && r.err == e->err;
    }
    default:
      return r.err == Err::kOk;
  }
}

Err FirstApplyError(const ApplyResult& r) { return r.err != Err::kOk ? r.err : FirstMultiError(r); }

Err FirstMultiError(const ApplyResult& r) {
  for (const OpResult& o : r.results) {
    if (o.err != Err::kOk) return o.err;
  }
  return Err::kOk;
}

proto::MultiResponse ToMultiResponse(const ApplyResult& r) {
  proto::MultiResponse m;
  for (const OpResult& o : r.results) {
    proto::MultiResult mr;
    mr.type = o.type;
    mr.err = o.type == OpCode::kError ? static_cast<int32_t>(o.err) : 0;
    if (o.type == OpCode::kCreate || o.type == OpCode::kCreate2) mr.path = o.path;
    if (o.type == OpCode::kCreate2 || o.type == OpCode::kSetData) mr.stat = o.stat;
    m.results.push_back(std::move(mr));
  }
  return m;
}

}  // namespace aviary::txn
