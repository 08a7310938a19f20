#include "zkformat/digest_predict.h"

#include <string>
#include <utility>

#include "zkformat/digest.h"

namespace aviary::zkformat {

namespace {

// A view of `path`'s parent inside `path` ("/" for a top-level node).
std::string_view ParentOf(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string_view::npos ? std::string_view("/") : path.substr(0, slash);
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

// Values of the nodes a txn touched, in `nodes` (nullopt = deleted /
// absent): a txn touches 1-3 paths (a multi or a closeSession a few more),
// so a flat vector searched from the back.
class Scratch {
 public:
  Scratch(const ValueLookup& lookup, uint64_t sum, PredictedNodes* nodes)
      : lookup_(lookup), sum_(sum), nodes_(*nodes) {}

  // The node to modify; the first touch takes its digest out of the sum.
  std::optional<NodeValue>& Touch(std::string_view path) {
    if (PredictedNode* p = Find(path)) return p->value;
    std::optional<NodeValue> v;
    const NodeBefore b = lookup_(path);
    if (b.value != nullptr) {
      v = *b.value;
    } else if (b.node != nullptr) {
      v = ValueOf(path, *b.node);  // children are not part of the digest (and may be many)
    }
    if (v) sum_ -= DigestOf(path, *v);
    nodes_.push_back(PredictedNode{path, std::move(v)});
    return nodes_.back().value;
  }
  bool Exists(std::string_view path) {
    if (const PredictedNode* p = Find(path)) return p->value.has_value();
    const NodeBefore b = lookup_(path);
    return b.node != nullptr || b.value != nullptr;
  }
  uint64_t Sum() const {
    uint64_t s = sum_;
    for (const PredictedNode& p : nodes_) {
      if (p.value) s += DigestOf(p.path, *p.value);
    }
    return s;
  }

 private:
  PredictedNode* Find(std::string_view path) {
    for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
      if (it->path == path) return &*it;
    }
    return nullptr;
  }
  const ValueLookup& lookup_;
  uint64_t sum_;
  PredictedNodes& nodes_;
};

void Create(Scratch& s, const txn::CreateTxn& c, int64_t zxid, int64_t time) {
  const std::string_view parent_path = ParentOf(c.path);
  if (s.Exists(c.path) || !s.Exists(parent_path)) return;  // createNode would fail
  std::optional<NodeValue>& parent = s.Touch(parent_path);
  int32_t cv = c.parent_cversion == -1 ? parent->stat.cversion + 1 : c.parent_cversion;
  if (cv > parent->stat.cversion) {
    parent->stat.cversion = cv;
    parent->stat.pzxid = zxid;
  }
  NodeValue n;
  n.head = NodeDigestHead(c.path, c.data);
  n.kind = KindOf(c.kind);
  n.stat.czxid = n.stat.mzxid = n.stat.pzxid = zxid;
  n.stat.ctime = n.stat.mtime = time;
  n.stat.ephemeral_owner = c.kind == txn::NodeKind::kEphemeral   ? c.ephemeral_owner
                           : c.kind == txn::NodeKind::kContainer ? tree::kContainerOwner
                           : c.kind == txn::NodeKind::kTtl       ? tree::TtlOwner(c.ttl_ms)
                                                                 : 0;
  s.Touch(c.path) = n;
}

void Delete(Scratch& s, std::string_view path, int64_t zxid) {
  const std::string_view parent_path = ParentOf(path);
  if (!s.Exists(parent_path)) return;
  std::optional<NodeValue>& parent = s.Touch(parent_path);
  if (zxid > parent->stat.pzxid) parent->stat.pzxid = zxid;
  s.Touch(path).reset();
}

void ApplyOp(Scratch& s, const txn::Op& op, int64_t zxid, int64_t time) {
  if (auto* c = std::get_if<txn::CreateTxn>(&op.body)) {
    Create(s, *c, zxid, time);
  } else if (auto* d = std::get_if<txn::DeleteTxn>(&op.body)) {
    Delete(s, d->path, zxid);
  } else if (auto* sd = std::get_if<txn::SetDataTxn>(&op.body)) {
    if (!s.Exists(sd->path)) return;
    std::optional<NodeValue>& n = s.Touch(sd->path);
    n->head = NodeDigestHead(sd->path, sd->data);
    n->stat.mzxid = zxid;
    n->stat.mtime = time;
    n->stat.version = sd->version;
  } else if (auto* sa = std::get_if<txn::SetAclTxn>(&op.body)) {
    if (s.Exists(sa->path)) s.Touch(sa->path)->stat.aversion = sa->version;
  } else if (auto* cs = std::get_if<txn::CloseSessionTxn>(&op.body)) {
    for (const std::string& p : cs->paths_to_delete) {
      if (s.Exists(p)) Delete(s, p, zxid);
    }
  }
}

}  // namespace

NodeValue ValueOf(std::string_view path, const tree::Node& n) {
  NodeValue v;
  v.head = NodeDigestHead(path, n.data);
  v.stat = n.persisted();
  v.kind = n.kind;
  return v;
}

int64_t PredictDigest(int64_t digest_before, const NodeLookup& lookup, const txn::Txn& t) {
  PredictedNodes changed;
  return PredictDigest(
      digest_before,
      [&lookup](std::string_view path) {
        return NodeBefore{lookup(path), nullptr};
      },
      t, &changed);
}

int64_t PredictDigest(int64_t digest_before, const ValueLookup& lookup, const txn::Txn& t, PredictedNodes* changed) {
  changed->clear();
  Scratch s(lookup, static_cast<uint64_t>(digest_before), changed);
  if (t.type == proto::OpCode::kMulti) {
    for (const txn::Op& op : t.multi) {
      if (op.type == proto::OpCode::kError) return digest_before;  // a failed multi changes nothing
    }
    for (const txn::Op& op : t.multi) ApplyOp(s, op, t.zxid, t.time_ms);
  } else {
    ApplyOp(s, t.op, t.zxid, t.time_ms);
  }
  return static_cast<int64_t>(s.Sum());
}

}  // namespace aviary::zkformat
