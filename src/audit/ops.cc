#include "audit/ops.h"

#include <algorithm>
#include <string_view>
#include <variant>

namespace aviary::audit {
namespace {

using proto::OpCode;

bool IsCreateOp(OpCode op) { return op == OpCode::kCreate || op == OpCode::kCreate2 || op == OpCode::kCreateContainer; }

std::string UserOf(const proto::Id& id) {
  if (id.scheme == "digest") return id.id.substr(0, id.id.find(':'));
  if (id.scheme == "ip" || id.scheme == "sasl" || id.scheme == "x509") return id.id;
  return {};
}

bool Blank(const std::string& s) { return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos; }

// Java's String.hashCode over the UTF-16 units of `utf8` (malformed bytes
// count as U+FFFD, as Java's decoder).
uint32_t JavaStringHash(std::string_view utf8) {
  uint32_t h = 0;
  auto add = [&h](uint32_t unit) { h = 31 * h + unit; };
  for (size_t i = 0; i < utf8.size();) {
    const auto b = static_cast<unsigned char>(utf8[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
    bool ok = len > 0 && i + static_cast<size_t>(len) <= utf8.size();
    for (int k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(utf8[i + static_cast<size_t>(k)]);
      ok = (c & 0xc0) == 0x80;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (!ok) {
      add(0xfffd);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      add(0xd800 + ((cp - 0x10000) >> 10));
      add(0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else {
      add(cp);
    }
    i += static_cast<size_t>(len);
  }
  return h;
}

// The bucket a ServerCnxn's auth Id falls in: ZooKeeper keeps them in a
// ConcurrentHashMap-backed set (16 buckets, doubled past 3/4 full) and
// AuthUtil.getUsers walks it in bucket order; Id.hashCode is jute's.
uint32_t IdBucket(const proto::Id& id, size_t count) {
  uint32_t h = 17;
  h = 37 * h + JavaStringHash(id.scheme);
  h = 37 * h + JavaStringHash(id.id);
  const uint32_t spread = (h ^ (h >> 16)) & 0x7fffffffu;
  size_t buckets = 16;
  while (count >= buckets - buckets / 4) buckets *= 2;
  return spread & static_cast<uint32_t>(buckets - 1);
}

Event ClientEvent(const WriteNote& n, std::string_view op, Result r) {
  Event e;
  e.session = n.session;
  if (!n.users.empty()) e.user = n.users;
  e.ip = n.ip;
  e.operation = std::string(op);
  e.result = r;
  return e;
}

const std::string* PathOf(const txn::Op& op) {
  if (auto* c = std::get_if<txn::CreateTxn>(&op.body)) return &c->path;
  if (auto* d = std::get_if<txn::DeleteTxn>(&op.body)) return &d->path;
  if (auto* s = std::get_if<txn::SetDataTxn>(&op.body)) return &s->path;
  if (auto* a = std::get_if<txn::SetAclTxn>(&op.body)) return &a->path;
  return nullptr;
}

// The audit operation of a create, delete or setData opcode (any create
// form, as ZooKeeper's multi audit), empty for every other opcode.
std::string_view NodeOpName(OpCode type) {
  switch (type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateTtl:
    case OpCode::kCreateContainer:
      return kOpCreate;
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
      return kOpDelete;
    case OpCode::kSetData:
      return kOpSetData;
    default:
      return {};
  }
}

// The operations AuditHelper audits as a request of their own: createTTL is
// not among them (only inside a multi); a whole-multi ErrorTxn is "multiOperation".
std::string_view TopLevelOpName(OpCode type) {
  switch (type) {
    case OpCode::kCreateTtl:
      return {};
    case OpCode::kSetAcl:
      return kOpSetAcl;
    case OpCode::kMulti:
      return kOpMulti;
    case OpCode::kReconfig:
      return kOpReconfig;
    default:
      return NodeOpName(type);
  }
}

void MultiEvents(const WriteNote& n, const txn::Txn& t, std::vector<Event>* out) {
  bool failed = false;
  for (const txn::Op& op : t.multi) {
    const std::string* path = PathOf(op);
    if (op.type == OpCode::kError) {
      failed = true;
      continue;
    }
    std::string_view name = NodeOpName(op.type);
    if (name.empty()) continue;
    Event e = ClientEvent(n, name, Result::kSuccess);
    if (path) e.znode = *path;
    if (name == kOpCreate && path) {
      for (const auto& [requested, mode] : n.create_modes) {
        if (requested == *path) e.znode_type = mode;
      }
    }
    out->push_back(std::move(e));
  }
  if (failed) out->push_back(ClientEvent(n, kOpMulti, Result::kFailure));
}

}  // namespace

std::string CreateModeName(int32_t flags) {
  switch (flags) {
    case 0:
      return "persistent";
    case 1:
      return "ephemeral";
    case 2:
      return "persistent_sequential";
    case 3:
      return "ephemeral_sequential";
    case 4:
      return "container";
    case 5:
      return "persistent_with_ttl";
    case 6:
      return "persistent_sequential_with_ttl";
    default:
      return {};
  }
}

std::string AclToString(const proto::AclList& acl) {
  std::string s;
  for (const proto::Acl& a : acl) s += a.id.scheme + ":" + a.id.id + ":" + proto::perms::Letters(a.perms);
  return s;
}

std::string UsersOf(const std::vector<proto::Id>& ids) {
  std::vector<std::pair<uint32_t, const proto::Id*>> order;
  for (const proto::Id& id : ids) order.emplace_back(IdBucket(id, ids.size()), &id);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string users;
  for (const auto& [bucket, idp] : order) {
    const proto::Id& id = *idp;
    std::string u = UserOf(id);
    if (Blank(u)) continue;
    if (!users.empty()) users += ',';
    users += u;
  }
  return users;
}

bool Audited(OpCode op) {
  switch (op) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kDelete:
    case OpCode::kDeleteContainer:
    case OpCode::kSetData:
    case OpCode::kSetAcl:
    case OpCode::kMulti:
    case OpCode::kReconfig:
      return true;
    default:
      return false;
  }
}

WriteNote NoteOf(const proto::Request& req, int64_t session_id, const std::vector<proto::Id>& ids,
                 const std::string& ip) {
  WriteNote n;
  n.op = req.op();
  n.session = SessionHex(session_id);
  n.users = UsersOf(ids);
  n.ip = ip;
  if (auto* c = std::get_if<proto::CreateRequest>(&req.body)) {
    n.path = c->path;
    n.znode_type = CreateModeName(c->flags);
  } else if (auto* d = std::get_if<proto::DeleteRequest>(&req.body)) {
    n.path = d->path;
  } else if (auto* s = std::get_if<proto::SetDataRequest>(&req.body)) {
    n.path = s->path;
  } else if (auto* a = std::get_if<proto::SetAclRequest>(&req.body)) {
    n.path = a->path;
    n.acl = AclToString(a->acl);
    n.acl_set = true;
  } else if (auto* m = std::get_if<proto::MultiRequest>(&req.body)) {
    for (const proto::MultiOp& op : m->ops) {
      auto* c = std::get_if<proto::CreateRequest>(&op.body);
      if (c != nullptr && IsCreateOp(op.type)) n.create_modes.emplace_back(c->path, CreateModeName(c->flags));
    }
  }
  return n;
}

void WriteEvents(const WriteNote& n, const txn::Txn& t, bool failed, std::vector<Event>* out) {
  if (n.op == OpCode::kMulti && t.type == OpCode::kMulti) {
    MultiEvents(n, t, out);
    return;
  }
  std::string_view name = TopLevelOpName(n.op);
  if (name.empty()) return;
  // A bad CreateMode flag makes ZooKeeper's AuditHelper throw: no line.
  if (name == kOpCreate && n.znode_type.empty()) return;
  const bool error_txn = t.type == OpCode::kError || t.op.type == OpCode::kError;
  Event e = ClientEvent(n, name, failed || error_txn ? Result::kFailure : Result::kSuccess);
  const std::string* applied_path = error_txn ? nullptr : PathOf(t.op);
  if (n.op != OpCode::kMulti && n.op != OpCode::kReconfig) e.znode = applied_path ? *applied_path : n.path;
  if (name == kOpCreate) e.znode_type = n.znode_type;
  if (n.acl_set) e.acl = n.acl;
  out->push_back(std::move(e));
}

Event EphemeralDeletion(int64_t session_id, const std::string& path, const std::string& server_user, bool deleted) {
  Event e;
  e.session = SessionHex(session_id);
  if (!server_user.empty()) e.user = server_user;
  e.operation = std::string(kOpEphemeralDeletion);
  e.znode = path;
  e.result = deleted ? Result::kSuccess : Result::kFailure;
  return e;
}

Event ServerEvent(std::string_view operation, const std::string& server_user, Result result) {
  Event e;
  if (!server_user.empty()) e.user = server_user;
  e.operation = std::string(operation);
  e.result = result;
  return e;
}

}  // namespace aviary::audit
