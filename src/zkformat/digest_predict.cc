#include "zkformat/digest_predict.h"

#include <map>
#include <optional>
#include <string>

#include "zkformat/digest.h"

namespace aviary::zkformat {

namespace {

std::string ParentOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

tree::Node WithoutChildren(const tree::Node& n) {
  tree::Node c;
  c.data = n.data;
  c.acl = n.acl;
  c.set_persisted(n.persisted());
  c.kind = n.kind;
  c.data_null = n.data_null;
  return c;
}

tree::NodeKind KindOf(txn::NodeKind k) {
  switch (k) {
    case txn::NodeKind::kEphemeral:
      return tree::NodeKind::kEphemeral;
    case txn::NodeKind::kContainer:
      return tree::NodeKind::kContainer;
    case txn::NodeKind::kTtl:
      return tree::NodeKind::kTtl;
    case txn::NodeKind::kPersistent:
      break;
  }
  return tree::NodeKind::kPersistent;
}

// Copies of the nodes a txn touched: nullopt = deleted / absent.
class Scratch {
 public:
  Scratch(const NodeLookup& lookup, uint64_t sum) : lookup_(lookup), sum_(sum) {}

  // The node to modify; the first touch takes its digest out of the sum.
  std::optional<tree::Node>& Touch(const std::string& path) {
    auto it = nodes_.find(path);
    if (it != nodes_.end()) return it->second;
    std::optional<tree::Node> copy;
    if (const tree::Node* n = lookup_(path)) {
      copy = WithoutChildren(*n);  // children are not part of the digest (and may be many)
      sum_ -= NodeDigest(path, *copy);
    }
    return nodes_.emplace(path, std::move(copy)).first->second;
  }
  bool Exists(const std::string& path) {
    auto it = nodes_.find(path);
    return it != nodes_.end() ? it->second.has_value() : lookup_(path) != nullptr;
  }
  std::map<std::string, std::optional<tree::Node>> TakeNodes() { return std::move(nodes_); }
  uint64_t Sum() const {
    uint64_t s = sum_;
    for (const auto& [path, n] : nodes_) {
      if (n) s += NodeDigest(path, *n);
    }
    return s;
  }

 private:
  const NodeLookup& lookup_;
  uint64_t sum_;
  std::map<std::string, std::optional<tree::Node>> nodes_;
};

void Create(Scratch& s, const txn::CreateTxn& c, int64_t zxid, int64_t time) {
  if (s.Exists(c.path) || !s.Exists(ParentOf(c.path))) return;  // createNode would fail
  std::optional<tree::Node>& parent = s.Touch(ParentOf(c.path));
  int32_t cv = c.parent_cversion == -1 ? parent->stat.cversion() + 1 : c.parent_cversion;
  if (cv > parent->stat.cversion()) {
    parent->stat.set_cversion(cv);
    parent->stat.set_pzxid(zxid);
  }
  tree::Node n;
  n.data = c.data;
  n.data_null = c.data_null;
  n.kind = KindOf(c.kind);
  n.stat.Init(zxid, time);
  n.set_ephemeral_owner(c.kind == txn::NodeKind::kEphemeral   ? c.ephemeral_owner
                        : c.kind == txn::NodeKind::kContainer ? tree::kContainerOwner
                        : c.kind == txn::NodeKind::kTtl       ? tree::TtlOwner(c.ttl_ms)
                                                              : 0);
  s.Touch(c.path) = std::move(n);
}

void Delete(Scratch& s, const std::string& path, int64_t zxid) {
  if (!s.Exists(ParentOf(path))) return;
  std::optional<tree::Node>& parent = s.Touch(ParentOf(path));
  if (zxid > parent->stat.pzxid()) parent->stat.set_pzxid(zxid);
  s.Touch(path).reset();
}

void ApplyOp(Scratch& s, const txn::Op& op, int64_t zxid, int64_t time) {
  if (auto* c = std::get_if<txn::CreateTxn>(&op.body)) {
    Create(s, *c, zxid, time);
  } else if (auto* d = std::get_if<txn::DeleteTxn>(&op.body)) {
    Delete(s, d->path, zxid);
  } else if (auto* sd = std::get_if<txn::SetDataTxn>(&op.body)) {
    if (!s.Exists(sd->path)) return;
    std::optional<tree::Node>& n = s.Touch(sd->path);
    n->data = sd->data;
    n->stat.set_mzxid(zxid);
    n->stat.set_mtime(time);
    n->stat.set_version(sd->version);
  } else if (auto* sa = std::get_if<txn::SetAclTxn>(&op.body)) {
    if (s.Exists(sa->path)) s.Touch(sa->path)->stat.set_aversion(sa->version);
  } else if (auto* cs = std::get_if<txn::CloseSessionTxn>(&op.body)) {
    for (const std::string& p : cs->paths_to_delete) {
      if (s.Exists(p)) Delete(s, p, zxid);
    }
  }
}

}  // namespace

int64_t PredictDigest(int64_t digest_before, const NodeLookup& lookup, const txn::Txn& t) {
  return PredictDigest(digest_before, lookup, t, nullptr);
}

int64_t PredictDigest(int64_t digest_before, const NodeLookup& lookup, const txn::Txn& t, PredictedNodes* changed) {
  Scratch s(lookup, static_cast<uint64_t>(digest_before));
  if (t.type == proto::OpCode::kMulti) {
    for (const txn::Op& op : t.multi) {
      if (op.type == proto::OpCode::kError) return digest_before;  // a failed multi changes nothing
    }
    for (const txn::Op& op : t.multi) ApplyOp(s, op, t.zxid, t.time_ms);
  } else {
    ApplyOp(s, t.op, t.zxid, t.time_ms);
  }
  const auto sum = static_cast<int64_t>(s.Sum());
  if (changed != nullptr) *changed = s.TakeNodes();
  return sum;
}

}  // namespace aviary::zkformat
