#include "storage/txn_codec.h"

#include <type_traits>

#include "proto/jute.h"
#include "proto/record_io.h"

namespace aviary::storage {
namespace {

using proto::jute::Reader;
using proto::jute::Writer;

// Smallest encoded op: i32 type + u8 tag + 4-byte body (delete with "").
constexpr size_t kMinOpBytes = 9;
constexpr size_t kMinTxnBytes = 1 + 8 + 4 + 8 + 8 + 4 + kMinOpBytes + 4;

void WriteByte(std::string* out, uint8_t b) { out->push_back(static_cast<char>(b)); }

uint8_t ReadByte(Reader& r) {
  std::string_view b = r.ReadRaw(1);
  return b.empty() ? 0 : static_cast<uint8_t>(b[0]);
}

// Tags are the variant indexes of txn::Op::body.
template <typename T>
constexpr uint8_t TagOf() {
  using V = decltype(txn::Op::body);
  uint8_t tag = 0;
  [&]<size_t... I>(std::index_sequence<I...>) {
    ((std::is_same_v<T, std::variant_alternative_t<I, V>> ? (tag = static_cast<uint8_t>(I), 0) : 0), ...);
  }
  (std::make_index_sequence<std::variant_size_v<V>>());
  return tag;
}

void WriteBody(Writer& w, std::string* out, const txn::Op& op) {
  WriteByte(out, static_cast<uint8_t>(op.body.index()));
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, txn::CreateTxn>) {
          w.WriteString(b.path);
          WriteByte(out, b.data_null ? 1 : 0);
          w.WriteBuffer(b.data);
          proto::io::Write(w, b.acl);
          WriteByte(out, static_cast<uint8_t>(b.kind));
          w.WriteInt64(b.ephemeral_owner);
          w.WriteInt64(b.ttl_ms);
          w.WriteInt32(b.parent_cversion);
        } else if constexpr (std::is_same_v<T, txn::DeleteTxn>) {
          w.WriteString(b.path);
        } else if constexpr (std::is_same_v<T, txn::SetDataTxn>) {
          w.WriteString(b.path);
          WriteByte(out, b.data_null ? 1 : 0);
          w.WriteBuffer(b.data);
          w.WriteInt32(b.version);
        } else if constexpr (std::is_same_v<T, txn::SetAclTxn>) {
          w.WriteString(b.path);
          proto::io::Write(w, b.acl);
          w.WriteInt32(b.version);
        } else if constexpr (std::is_same_v<T, txn::CheckTxn>) {
          w.WriteString(b.path);
          w.WriteInt32(b.version);
        } else if constexpr (std::is_same_v<T, txn::CreateSessionTxn>) {
          w.WriteInt32(b.timeout_ms);
        } else if constexpr (std::is_same_v<T, txn::CloseSessionTxn>) {
          proto::io::Write(w, b.paths_to_delete);
        } else {
          static_assert(std::is_same_v<T, txn::ErrorTxn>);
          w.WriteInt32(static_cast<int32_t>(b.err));
        }
      },
      op.body);
}

void WriteOp(Writer& w, std::string* out, const txn::Op& op) {
  w.WriteInt32(static_cast<int32_t>(op.type));
  WriteBody(w, out, op);
}

bool ReadFlag(Reader& r, bool* v) {
  const uint8_t b = ReadByte(r);
  *v = b == 1;
  return b <= 1;
}

bool ReadOp(Reader& r, txn::Op* op) {
  op->type = static_cast<proto::OpCode>(r.ReadInt32());
  const uint8_t tag = ReadByte(r);
  switch (tag) {
    case TagOf<txn::CreateTxn>(): {
      txn::CreateTxn c;
      c.path = r.ReadString();
      if (!ReadFlag(r, &c.data_null)) return false;
      c.data = r.ReadBuffer();
      proto::io::Read(r, &c.acl);
      const uint8_t kind = ReadByte(r);
      if (kind > static_cast<uint8_t>(txn::NodeKind::kTtl)) return false;
      c.kind = static_cast<txn::NodeKind>(kind);
      c.ephemeral_owner = r.ReadInt64();
      c.ttl_ms = r.ReadInt64();
      c.parent_cversion = r.ReadInt32();
      op->body = std::move(c);
      break;
    }
    case TagOf<txn::DeleteTxn>():
      op->body = txn::DeleteTxn{r.ReadString()};
      break;
    case TagOf<txn::SetDataTxn>(): {
      txn::SetDataTxn s;
      s.path = r.ReadString();
      if (!ReadFlag(r, &s.data_null)) return false;
      s.data = r.ReadBuffer();
      s.version = r.ReadInt32();
      op->body = std::move(s);
      break;
    }
    case TagOf<txn::SetAclTxn>(): {
      txn::SetAclTxn s;
      s.path = r.ReadString();
      proto::io::Read(r, &s.acl);
      s.version = r.ReadInt32();
      op->body = std::move(s);
      break;
    }
    case TagOf<txn::CheckTxn>(): {
      txn::CheckTxn c;
      c.path = r.ReadString();
      c.version = r.ReadInt32();
      op->body = std::move(c);
      break;
    }
    case TagOf<txn::CreateSessionTxn>():
      op->body = txn::CreateSessionTxn{r.ReadInt32()};
      break;
    case TagOf<txn::CloseSessionTxn>(): {
      txn::CloseSessionTxn c;
      proto::io::Read(r, &c.paths_to_delete);
      op->body = std::move(c);
      break;
    }
    case TagOf<txn::ErrorTxn>():
      op->body = txn::ErrorTxn{static_cast<proto::Err>(r.ReadInt32())};
      break;
    default:
      return false;
  }
  return r.ok();
}

constexpr size_t kStrBytes = 4;  // jute length prefix of a string / buffer

size_t AclBytes(const proto::AclList& acl) {
  size_t n = 4;
  for (const proto::Acl& a : acl) n += 4 + kStrBytes + a.id.scheme.size() + kStrBytes + a.id.id.size();
  return n;
}

size_t BodyBytes(const txn::Op& op) {
  return std::visit(
      [](const auto& b) -> size_t {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, txn::CreateTxn>) {
          return kStrBytes + b.path.size() + 1 + kStrBytes + b.data.size() + AclBytes(b.acl) + 1 + 8 + 8 + 4;
        } else if constexpr (std::is_same_v<T, txn::DeleteTxn>) {
          return kStrBytes + b.path.size();
        } else if constexpr (std::is_same_v<T, txn::SetDataTxn>) {
          return kStrBytes + b.path.size() + 1 + kStrBytes + b.data.size() + 4;
        } else if constexpr (std::is_same_v<T, txn::SetAclTxn>) {
          return kStrBytes + b.path.size() + AclBytes(b.acl) + 4;
        } else if constexpr (std::is_same_v<T, txn::CheckTxn>) {
          return kStrBytes + b.path.size() + 4;
        } else if constexpr (std::is_same_v<T, txn::CloseSessionTxn>) {
          size_t n = 4;
          for (const std::string& p : b.paths_to_delete) n += kStrBytes + p.size();
          return n;
        } else {
          static_assert(std::is_same_v<T, txn::CreateSessionTxn> || std::is_same_v<T, txn::ErrorTxn>);
          return 4;
        }
      },
      op.body);
}

}  // namespace

size_t EncodedOpBytes(const txn::Op& op) { return 4 + 1 + BodyBytes(op); }

size_t EncodedTxnBytes(const txn::Txn& t) {
  size_t n = 1 + 8 + 4 + 8 + 8 + 4 + EncodedOpBytes(t.op) + 4;
  for (const txn::Op& op : t.multi) n += EncodedOpBytes(op);
  return t.zk_digest ? n + 8 : n;
}

void EncodeTxn(const txn::Txn& t, std::string* out) {
  Writer w(out);
  WriteByte(out, t.zk_digest ? kTxnCodecVersionDigest : kTxnCodecVersion);
  w.WriteInt64(t.session_id);
  w.WriteInt32(t.cxid);
  w.WriteInt64(t.zxid);
  w.WriteInt64(t.time_ms);
  w.WriteInt32(static_cast<int32_t>(t.type));
  WriteOp(w, out, t.op);
  w.WriteInt32(static_cast<int32_t>(t.multi.size()));
  for (const txn::Op& op : t.multi) WriteOp(w, out, op);
  if (t.zk_digest) w.WriteInt64(*t.zk_digest);
}

bool DecodeTxn(std::string_view in, txn::Txn* out) {
  if (in.size() < kMinTxnBytes) return false;
  Reader r(in);
  const uint8_t version = ReadByte(r);
  if (version != kTxnCodecVersion && version != kTxnCodecVersionDigest) return false;
  out->session_id = r.ReadInt64();
  out->cxid = r.ReadInt32();
  out->zxid = r.ReadInt64();
  out->time_ms = r.ReadInt64();
  out->type = static_cast<proto::OpCode>(r.ReadInt32());
  if (!ReadOp(r, &out->op)) return false;
  const int32_t n = r.ReadVectorCount(kMinOpBytes);
  if (!r.ok() || static_cast<size_t>(n) > kMaxMultiOps) return false;
  out->multi.clear();
  out->multi.resize(static_cast<size_t>(n));
  for (txn::Op& op : out->multi) {
    if (!ReadOp(r, &op)) return false;
  }
  out->zk_digest.reset();
  if (version == kTxnCodecVersionDigest) out->zk_digest = r.ReadInt64();
  return r.ok() && r.remaining() == 0;
}

}  // namespace aviary::storage
