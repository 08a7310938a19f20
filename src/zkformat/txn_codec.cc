#include "zkformat/txn_codec.h"

#include <utility>

#include "proto/jute.h"
#include "proto/record_io.h"

namespace aviary::zkformat {

namespace {

using proto::Err;
using proto::OpCode;
using proto::jute::Reader;
using proto::jute::Writer;

constexpr size_t kDigestBytes = 12;    // int version + long treeDigest
constexpr size_t kMinSubTxnBytes = 8;  // int type + buffer length
constexpr size_t kMinPathBytes = 4;    // ustring length

bool IsCreate(OpCode t) {
  return t == OpCode::kCreate || t == OpCode::kCreate2 || t == OpCode::kCreateContainer || t == OpCode::kCreateTtl;
}

// Types that may appear inside a MultiTxn (DataTree.processTxn, multi case).
bool IsSubType(OpCode t) {
  return IsCreate(t) || t == OpCode::kDelete || t == OpCode::kDeleteContainer || t == OpCode::kSetData ||
         t == OpCode::kCheck || t == OpCode::kError;
}

bool IsTopType(OpCode t) {
  return IsSubType(t) || t == OpCode::kSetAcl || t == OpCode::kCreateSession || t == OpCode::kCloseSession ||
         t == OpCode::kMulti;
}

void ReadCreate(Reader& r, OpCode type, int64_t session, txn::CreateTxn* c) {
  c->path = r.ReadString();
  c->data = r.ReadBuffer(&c->data_null);
  proto::io::Read(r, &c->acl);
  if (type == OpCode::kCreate || type == OpCode::kCreate2) {
    bool ephemeral = r.ReadBool();
    c->kind = ephemeral ? txn::NodeKind::kEphemeral : txn::NodeKind::kPersistent;
    c->ephemeral_owner = ephemeral ? session : 0;
  } else {
    c->kind = type == OpCode::kCreateTtl ? txn::NodeKind::kTtl : txn::NodeKind::kContainer;
  }
  c->parent_cversion = r.ReadInt32();
  if (type == OpCode::kCreateTtl) c->ttl_ms = r.ReadInt64();
}

void ReadCloseSession(Reader& r, txn::CloseSessionTxn* c) {
  int32_t n = r.ReadVectorCount(kMinPathBytes);
  c->paths_to_delete.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n && r.ok(); ++i) c->paths_to_delete.push_back(r.ReadString());
}

// Reads the record of one op of `type` into op->body.
void ReadBody(Reader& r, OpCode type, int64_t session, txn::Op* op) {
  op->type = type;
  switch (type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl: {
      txn::CreateTxn c;
      ReadCreate(r, type, session, &c);
      op->body = std::move(c);
      return;
    }
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      op->body = txn::DeleteTxn{r.ReadString()};
      return;
    case OpCode::kSetData: {
      txn::SetDataTxn s;
      s.path = r.ReadString();
      s.data = r.ReadBuffer(&s.data_null);
      s.version = r.ReadInt32();
      op->body = std::move(s);
      return;
    }
    case OpCode::kSetAcl: {
      txn::SetAclTxn s;
      s.path = r.ReadString();
      proto::io::Read(r, &s.acl);
      s.version = r.ReadInt32();
      op->body = std::move(s);
      return;
    }
    case OpCode::kCheck: {
      txn::CheckTxn c;
      c.path = r.ReadString();
      c.version = r.ReadInt32();
      op->body = std::move(c);
      return;
    }
    case OpCode::kCreateSession:
      op->body = txn::CreateSessionTxn{r.ReadInt32()};
      return;
    case OpCode::kCloseSession: {
      txn::CloseSessionTxn c;
      ReadCloseSession(r, &c);
      op->body = std::move(c);
      return;
    }
    default:  // kError (callers pass only known types)
      op->body = txn::ErrorTxn{static_cast<Err>(r.ReadInt32())};
      return;
  }
}

bool ReadMulti(Reader& r, int64_t session, std::vector<txn::Op>* ops, std::string* error) {
  int32_t n = r.ReadVectorCount(kMinSubTxnBytes);
  ops->reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    auto type = static_cast<OpCode>(r.ReadInt32());
    std::string_view data = r.ReadBufferView();
    if (!r.ok()) break;
    if (!IsSubType(type)) {
      *error = "multi op " + std::to_string(i) + " has type " + std::to_string(static_cast<int32_t>(type)) +
               ", which ZooKeeper does not allow in a multi";
      return false;
    }
    Reader sub(data);
    txn::Op op;
    ReadBody(sub, type, session, &op);
    if (!sub.ok() || sub.remaining() != 0) {
      *error = "multi op " + std::to_string(i) + ": malformed record";
      return false;
    }
    ops->push_back(std::move(op));
  }
  if (!r.ok()) *error = "multi: truncated or malformed";
  return r.ok();
}

void WriteCreate(Writer& w, OpCode type, const txn::CreateTxn& c) {
  w.WriteString(c.path);
  w.WriteBuffer(c.data, c.data_null);
  proto::io::Write(w, c.acl);
  if (type == OpCode::kCreate || type == OpCode::kCreate2) w.WriteBool(c.kind == txn::NodeKind::kEphemeral);
  w.WriteInt32(c.parent_cversion);
  if (type == OpCode::kCreateTtl) w.WriteInt64(c.ttl_ms);
}

// Whether a create of `type` can carry `c` for `session`.
bool CreateFits(OpCode type, const txn::CreateTxn& c, int64_t session, std::string* error) {
  txn::NodeKind want = type == OpCode::kCreateTtl         ? txn::NodeKind::kTtl
                       : type == OpCode::kCreateContainer ? txn::NodeKind::kContainer
                                                          : c.kind;
  if (c.kind != want || (type != OpCode::kCreateTtl && c.kind == txn::NodeKind::kTtl) ||
      (type != OpCode::kCreateContainer && c.kind == txn::NodeKind::kContainer)) {
    *error = "create of " + c.path + ": node kind does not match op type";
    return false;
  }
  if (c.kind == txn::NodeKind::kEphemeral && c.ephemeral_owner != session) {
    *error = "create of " + c.path + ": ephemeral owner is not the txn's session";
    return false;
  }
  return true;
}

bool WriteBody(Writer& w, const txn::Op& op, int64_t session, std::string* error);

bool WriteMulti(Writer& w, const std::vector<txn::Op>& ops, int64_t session, std::string* error) {
  w.WriteVectorCount(ops.size());
  for (const txn::Op& op : ops) {
    if (!IsSubType(op.type)) {
      *error = "multi op type " + std::to_string(static_cast<int32_t>(op.type)) + " has no ZooKeeper form";
      return false;
    }
    std::string data;
    Writer sub(&data);
    if (!WriteBody(sub, op, session, error)) return false;
    w.WriteInt32(static_cast<int32_t>(op.type));
    w.WriteBuffer(data);
  }
  return true;
}

template <typename T>
const T* BodyAs(const txn::Op& op, std::string* error) {
  const T* b = std::get_if<T>(&op.body);
  if (b == nullptr) *error = "op type " + std::to_string(static_cast<int32_t>(op.type)) + " with a mismatched body";
  return b;
}

bool WriteBody(Writer& w, const txn::Op& op, int64_t session, std::string* error) {
  switch (op.type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl: {
      auto* c = BodyAs<txn::CreateTxn>(op, error);
      if (c == nullptr || !CreateFits(op.type, *c, session, error)) return false;
      WriteCreate(w, op.type, *c);
      return true;
    }
    case OpCode::kDelete:
    case OpCode::kDeleteContainer: {
      auto* d = BodyAs<txn::DeleteTxn>(op, error);
      if (d != nullptr) w.WriteString(d->path);
      return d != nullptr;
    }
    case OpCode::kSetData: {
      auto* s = BodyAs<txn::SetDataTxn>(op, error);
      if (s == nullptr) return false;
      w.WriteString(s->path);
      w.WriteBuffer(s->data, s->data_null);
      w.WriteInt32(s->version);
      return true;
    }
    case OpCode::kSetAcl: {
      auto* s = BodyAs<txn::SetAclTxn>(op, error);
      if (s == nullptr) return false;
      w.WriteString(s->path);
      proto::io::Write(w, s->acl);
      w.WriteInt32(s->version);
      return true;
    }
    case OpCode::kCheck: {
      auto* c = BodyAs<txn::CheckTxn>(op, error);
      if (c == nullptr) return false;
      w.WriteString(c->path);
      w.WriteInt32(c->version);
      return true;
    }
    case OpCode::kCreateSession: {
      auto* c = BodyAs<txn::CreateSessionTxn>(op, error);
      if (c != nullptr) w.WriteInt32(c->timeout_ms);
      return c != nullptr;
    }
    case OpCode::kCloseSession: {
      auto* c = BodyAs<txn::CloseSessionTxn>(op, error);
      if (c == nullptr) return false;
      w.WriteVectorCount(c->paths_to_delete.size());
      for (const std::string& p : c->paths_to_delete) w.WriteString(p);
      return true;
    }
    case OpCode::kError: {
      auto* e = BodyAs<txn::ErrorTxn>(op, error);
      if (e != nullptr) w.WriteInt32(static_cast<int32_t>(e->err));
      return e != nullptr;
    }
    default:
      *error = "op type " + std::to_string(static_cast<int32_t>(op.type)) + " has no ZooKeeper txn form";
      return false;
  }
}

}  // namespace

bool DecodeZkTxn(std::string_view in, ZkTxn* out, std::string* error) {
  Reader r(in);
  *out = ZkTxn{};
  txn::Txn& t = out->txn;
  t.session_id = r.ReadInt64();
  t.cxid = r.ReadInt32();
  t.zxid = r.ReadInt64();
  t.time_ms = r.ReadInt64();
  t.type = static_cast<OpCode>(r.ReadInt32());
  if (!r.ok()) {
    *error = "truncated TxnHeader";
    return false;
  }
  if (!IsTopType(t.type)) {
    *error = "unsupported txn type " + std::to_string(static_cast<int32_t>(t.type));
    return false;
  }
  if (t.type == OpCode::kMulti) {
    t.op = txn::Op{};
    if (!ReadMulti(r, t.session_id, &t.multi, error)) return false;
  } else if (t.type == OpCode::kCloseSession && r.remaining() == 0) {
    out->close_record_absent = true;
    t.op = txn::Op{OpCode::kCloseSession, txn::CloseSessionTxn{}};
  } else {
    ReadBody(r, t.type, t.session_id, &t.op);
  }
  if (r.ok() && r.remaining() == kDigestBytes) {
    out->digest = TxnDigest{r.ReadInt32(), r.ReadInt64()};
  }
  if (!r.ok() || r.remaining() != 0) {
    *error = r.ok() ? "trailing bytes after the txn" : "truncated or malformed txn record";
    return false;
  }
  return true;
}

bool EncodeZkTxn(const ZkTxn& z, std::string* out, std::string* error) {
  const txn::Txn& t = z.txn;
  std::string buf;
  Writer w(&buf);
  w.WriteInt64(t.session_id);
  w.WriteInt32(t.cxid);
  w.WriteInt64(t.zxid);
  w.WriteInt64(t.time_ms);
  w.WriteInt32(static_cast<int32_t>(t.type));
  if (t.type == OpCode::kMulti) {
    if (!WriteMulti(w, t.multi, t.session_id, error)) return false;
  } else if (!IsTopType(t.type) || t.op.type != t.type) {
    *error = "txn type " + std::to_string(static_cast<int32_t>(t.type)) + " has no ZooKeeper form";
    return false;
  } else if (!(t.type == OpCode::kCloseSession && z.close_record_absent)) {
    if (!WriteBody(w, t.op, t.session_id, error)) return false;
  }
  if (z.digest) {
    w.WriteInt32(z.digest->version);
    w.WriteInt64(z.digest->tree_digest);
  }
  out->append(buf);
  return true;
}

void AppendTxnDigest(const TxnDigest& d, std::string* out) {
  Writer w(out);
  w.WriteInt32(d.version);
  w.WriteInt64(d.tree_digest);
}

void FillClosePaths(const tree::DataTree& tree, txn::Txn* t) {
  if (t->type != OpCode::kCloseSession) return;
  auto* c = std::get_if<txn::CloseSessionTxn>(&t->op.body);
  if (c == nullptr || !c->paths_to_delete.empty()) return;
  c->paths_to_delete = tree.EphemeralsOf(t->session_id);
}

}  // namespace aviary::zkformat
