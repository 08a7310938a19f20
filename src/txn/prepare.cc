#include "txn/prepare.h"

#include <cstdio>
#include <set>
#include <type_traits>

#include "tree/path.h"
#include "txn/acl.h"

namespace aviary::txn {
namespace {

using proto::Err;
using proto::OpCode;

Op ErrorOp(Err err) { return Op{OpCode::kError, ErrorTxn{err}}; }

bool IsSpecialPath(std::string_view p) {
  return p == "/" || p == "/zookeeper" || p == "/zookeeper/quota" || p == "/zookeeper/config";
}

bool HasNul(std::string_view p) { return p.find('\0') != std::string_view::npos; }

int32_t Inc(int32_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v) + 1u); }

}  // namespace

void AppendSequenceSuffix(int32_t v, std::string* path) {
  if (v < 0) {  // String.format("%010d"): "-000000001"
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%010d", v);
    path->append(suffix);
    return;
  }
  char digits[10];
  auto u = static_cast<uint32_t>(v);
  for (int i = 9; i >= 0; --i, u /= 10) digits[i] = static_cast<char>('0' + u % 10);
  path->append(digits, sizeof digits);
}

namespace {

// checkAndIncVersion: -1 matches any version.
Err CheckVersion(int32_t current, int32_t expected, int32_t* next) {
  if (expected != -1 && expected != current) return Err::kBadVersion;
  *next = Inc(current);
  return Err::kOk;
}

struct Mode {
  bool ephemeral = false, sequential = false, container = false, ttl = false;
};
// CreateMode.fromFlag; nullopt for an unknown flag value.
std::optional<Mode> ParseMode(int32_t flags) {
  switch (flags) {
    case 0:
      return Mode{};
    case 1:
      return Mode{true, false, false, false};
    case 2:
      return Mode{false, true, false, false};
    case 3:
      return Mode{true, true, false, false};
    case 4:
      return Mode{false, false, true, false};
    case 5:
      return Mode{false, false, false, true};
    case 6:
      return Mode{false, true, false, true};
    default:
      return std::nullopt;
  }
}

bool IsCreate(OpCode t) {
  return t == OpCode::kCreate || t == OpCode::kCreate2 || t == OpCode::kCreateContainer || t == OpCode::kCreateTtl;
}

}  // namespace

Preparer::Preparer(const tree::DataTree& tree, PrepareOptions opts)
    : tree_(tree), opts_(std::move(opts)), overlay_(tree), quota_(tree, opts_.enforce_quota, opts_.quota_errors) {}

void Preparer::PutDeleted(const std::string& path, int64_t zxid) {
  NodeRec r;
  r.zxid = zxid;
  r.exists = false;
  overlay_.Put(path, std::move(r));
}

bool Preparer::WithinBound(const Op& op, int64_t* used) const {
  if (!opts_.op_bytes) return true;
  *used += static_cast<int64_t>(opts_.op_bytes(op));
  return *used <= opts_.max_ops_bytes;
}

Txn Preparer::Prepare(const proto::Request& req, const SessionCtx& ctx, int64_t zxid, int64_t now_ms) {
  proto::Request copy = req;
  return Prepare(std::move(copy), ctx, zxid, now_ms);
}

Txn Preparer::Prepare(proto::Request&& req, const SessionCtx& ctx, int64_t zxid, int64_t now_ms) {
  Txn t;
  t.session_id = ctx.session_id;
  t.cxid = req.header.xid;
  t.zxid = zxid;
  t.time_ms = now_ms;
  const OpCode type = req.op();
  if (type == OpCode::kMulti) {
    auto* m = std::get_if<proto::MultiRequest>(&req.body);
    if (m == nullptr) {
      t.type = OpCode::kError;
      t.op = ErrorOp(Err::kMarshallingError);
      return t;
    }
    return PrepMulti(*m, ctx, std::move(t));
  }
  switch (type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
    case OpCode::kDelete:
    case OpCode::kSetData:
    case OpCode::kSetAcl:
    case OpCode::kCheck: {
      Op op;
      overlay_.Begin();
      const size_t quota_mark = quota_.Mark();
      Err err = PrepOp(type, req.body, ctx, zxid, now_ms, &op);
      int64_t used = 0;
      if (err == Err::kOk && !WithinBound(op, &used)) err = Err::kBadArguments;
      if (err == Err::kOk) {
        overlay_.Commit();
      } else {
        overlay_.Rollback();
        quota_.RollbackTo(quota_mark);
      }
      if (err == Err::kOk) {
        t.type = type;
        t.op = std::move(op);
      } else {
        t.type = OpCode::kError;
        t.op = ErrorOp(err);
      }
      return t;
    }
    default:
      t.type = OpCode::kError;
      t.op = ErrorOp(Err::kUnimplemented);
      return t;
  }
}

Err Preparer::PrepOp(OpCode type, proto::RequestBody& body, const SessionCtx& ctx, int64_t zxid, int64_t now_ms,
                     Op* out) {
  if (IsCreate(type)) {
    auto* r = std::get_if<proto::CreateRequest>(&body);
    return r ? PrepCreate(type, *r, ctx, zxid, now_ms, out) : Err::kMarshallingError;
  }
  switch (type) {
    case OpCode::kDelete: {
      auto* r = std::get_if<proto::DeleteRequest>(&body);
      return r ? PrepDelete(*r, ctx, zxid, out) : Err::kMarshallingError;
    }
    case OpCode::kSetData: {
      auto* r = std::get_if<proto::SetDataRequest>(&body);
      return r ? PrepSetData(*r, ctx, zxid, now_ms, out) : Err::kMarshallingError;
    }
    case OpCode::kSetAcl: {
      auto* r = std::get_if<proto::SetAclRequest>(&body);
      return r ? PrepSetAcl(*r, ctx, zxid, out) : Err::kMarshallingError;
    }
    case OpCode::kCheck: {
      auto* r = std::get_if<proto::CheckVersionRequest>(&body);
      return r ? PrepCheck(*r, ctx, out) : Err::kMarshallingError;
    }
    default:
      return Err::kMarshallingError;
  }
}

Err Preparer::PrepCreate(OpCode type, proto::CreateRequest& r, const SessionCtx& ctx, int64_t zxid, int64_t now_ms,
                         Op* out) {
  const std::optional<Mode> mode = ParseMode(r.flags);
  if (!mode) return Err::kBadArguments;
  // validateCreateRequest
  const int64_t ttl = type == OpCode::kCreateTtl ? r.ttl : -1;
  if (mode->ttl && !opts_.extended_types_enabled) return Err::kUnimplemented;
  if (mode->ttl ? (ttl <= 0 || ttl > tree::kMaxTtlMs) : ttl >= 0) return Err::kBadArguments;
  // createTTL with a non-TTL mode: ZooKeeper fails later at apply; refuse.
  if (type == OpCode::kCreateTtl && !mode->ttl) return Err::kBadArguments;
  if (mode->ephemeral && ctx.ephemeral_err != Err::kOk) return ctx.ephemeral_err;  // a local session's
  if (r.data.size() > static_cast<size_t>(opts_.max_buffer)) return Err::kBadArguments;
  // validatePathForCreate
  const size_t slash = r.path.rfind('/');
  if (slash == std::string::npos || HasNul(r.path)) return Err::kBadArguments;
  const std::string parent_path = r.path.substr(0, slash);
  proto::AclList acl;
  if (const Err e = FixupAcl(r.acl, ctx, &acl); e != Err::kOk) return e;
  std::optional<NodeRec> parent = overlay_.Get(parent_path);
  if (!parent) return Err::kNoNode;
  if (!CheckPermission(*parent->acl, proto::perms::kCreate, ctx)) return Err::kNoAuth;
  std::string path = std::move(r.path);
  if (mode->sequential) AppendSequenceSuffix(parent->stat.cversion, &path);
  if (tree::ValidatePath(path, false) != Err::kOk) return Err::kBadArguments;
  if (overlay_.Get(path)) return Err::kNodeExists;
  if (parent->kind == tree::NodeKind::kEphemeral) return Err::kNoChildrenForEphemerals;
  const auto bytes = static_cast<int64_t>(r.data.size());
  if (const Err e = quota_.Check(path, 1, bytes, now_ms); e != Err::kOk) return e;
  const int32_t new_cversion = Inc(parent->stat.cversion);

  CreateTxn c;
  c.data = std::move(r.data);
  c.data_null = r.data_null;
  c.parent_cversion = new_cversion;
  if (type == OpCode::kCreateContainer) {
    c.kind = NodeKind::kContainer;
  } else if (type == OpCode::kCreateTtl) {
    c.kind = NodeKind::kTtl;
    c.ttl_ms = ttl;
  } else if (mode->ephemeral) {
    c.kind = NodeKind::kEphemeral;
    c.ephemeral_owner = ctx.session_id;
  }

  NodeRec node;
  node.zxid = zxid;
  node.exists = true;
  node.stat.czxid = node.stat.mzxid = node.stat.pzxid = zxid;
  node.stat.ctime = node.stat.mtime = now_ms;
  node.kind = static_cast<tree::NodeKind>(c.kind);
  node.stat.ephemeral_owner = c.kind == NodeKind::kEphemeral   ? ctx.session_id
                              : c.kind == NodeKind::kContainer ? tree::kContainerOwner
                              : c.kind == NodeKind::kTtl       ? tree::TtlOwner(ttl)
                                                               : 0;
  // A run of creates repeats one ACL: share the list prepared last.
  if (last_acl_ == nullptr || *last_acl_ != acl) last_acl_ = std::make_shared<const proto::AclList>(acl);
  node.acl = last_acl_;
  node.data_bytes = bytes;
  quota_.Record(path, zxid, 1, bytes);

  parent->zxid = zxid;
  parent->child_count++;
  parent->stat.cversion = new_cversion;
  parent->stat.pzxid = zxid;
  overlay_.Put(parent_path, std::move(*parent));
  overlay_.Put(path, std::move(node));

  c.path = std::move(path);
  c.acl = std::move(acl);
  *out = Op{type, std::move(c)};
  return Err::kOk;
}

Err Preparer::PrepDelete(proto::DeleteRequest& r, const SessionCtx& ctx, int64_t zxid, Op* out) {
  const size_t slash = r.path.rfind('/');
  if (slash == std::string::npos || HasNul(r.path) || IsSpecialPath(r.path)) return Err::kBadArguments;
  const std::string parent_path = r.path.substr(0, slash);
  std::optional<NodeRec> parent = overlay_.Get(parent_path);
  if (!parent) return Err::kNoNode;
  if (!CheckPermission(*parent->acl, proto::perms::kDelete, ctx)) return Err::kNoAuth;
  const std::optional<NodeRec> node = overlay_.Get(r.path);
  if (!node) return Err::kNoNode;
  int32_t next = 0;
  if (const Err e = CheckVersion(node->stat.version, r.version, &next); e != Err::kOk) return e;
  if (node->child_count > 0) return Err::kNotEmpty;

  parent->zxid = zxid;
  parent->child_count--;
  parent->stat.pzxid = zxid;
  overlay_.Put(parent_path, std::move(*parent));
  PutDeleted(r.path, zxid);
  *out = Op{OpCode::kDelete, DeleteTxn{std::move(r.path)}};
  return Err::kOk;
}

Err Preparer::PrepSetData(proto::SetDataRequest& r, const SessionCtx& ctx, int64_t zxid, int64_t now_ms, Op* out) {
  if (tree::ValidatePath(r.path, false) != Err::kOk) return Err::kBadArguments;
  std::optional<NodeRec> node = overlay_.Get(r.path);
  if (!node) return Err::kNoNode;
  if (!CheckPermission(*node->acl, proto::perms::kWrite, ctx)) return Err::kNoAuth;
  if (r.data.size() > static_cast<size_t>(opts_.max_buffer)) return Err::kBadArguments;
  // ZooKeeper checks the quota before the version.
  const int64_t bytes_diff = static_cast<int64_t>(r.data.size()) - node->data_bytes;
  if (const Err e = quota_.Check(r.path, 0, bytes_diff, now_ms); e != Err::kOk) return e;
  int32_t next = 0;
  if (const Err e = CheckVersion(node->stat.version, r.version, &next); e != Err::kOk) return e;
  quota_.Record(r.path, zxid, 0, bytes_diff);

  node->zxid = zxid;
  node->data_bytes = static_cast<int64_t>(r.data.size());
  node->stat.version = next;
  node->stat.mtime = now_ms;
  node->stat.mzxid = zxid;
  overlay_.Put(r.path, std::move(*node));
  *out = Op{OpCode::kSetData, SetDataTxn{std::move(r.path), std::move(r.data), next, r.data_null}};
  return Err::kOk;
}

Err Preparer::PrepSetAcl(const proto::SetAclRequest& r, const SessionCtx& ctx, int64_t zxid, Op* out) {
  if (tree::ValidatePath(r.path, false) != Err::kOk) return Err::kBadArguments;
  proto::AclList acl;
  if (const Err e = FixupAcl(r.acl, ctx, &acl); e != Err::kOk) return e;
  std::optional<NodeRec> node = overlay_.Get(r.path);
  if (!node) return Err::kNoNode;
  if (!CheckPermission(*node->acl, proto::perms::kAdmin, ctx)) return Err::kNoAuth;
  int32_t next = 0;
  if (const Err e = CheckVersion(node->stat.aversion, r.version, &next); e != Err::kOk) return e;

  node->zxid = zxid;
  node->stat.aversion = next;
  node->acl = std::make_shared<const proto::AclList>(acl);
  overlay_.Put(r.path, std::move(*node));
  *out = Op{OpCode::kSetAcl, SetAclTxn{r.path, std::move(acl), next}};
  return Err::kOk;
}

Err Preparer::PrepCheck(proto::CheckVersionRequest& r, const SessionCtx& ctx, Op* out) {
  if (tree::ValidatePath(r.path, false) != Err::kOk) return Err::kBadArguments;
  const std::optional<NodeRec> node = overlay_.Get(r.path);
  if (!node) return Err::kNoNode;
  if (!CheckPermission(*node->acl, proto::perms::kRead, ctx)) return Err::kNoAuth;
  int32_t next = 0;
  if (const Err e = CheckVersion(node->stat.version, r.version, &next); e != Err::kOk) return e;
  *out = Op{OpCode::kCheck, CheckTxn{std::move(r.path), next}};
  return Err::kOk;
}

}  // namespace aviary::txn
