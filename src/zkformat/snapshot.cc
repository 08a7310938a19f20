#include "zkformat/snapshot.h"

#include <algorithm>
#include <utility>

#include "proto/jute.h"
#include "tree/path.h"
#include "tree/stat_io.h"
#include "zkformat/cursor.h"

namespace aviary::zkformat {

namespace {

constexpr int kOk = 0, kMore = 1, kBad = 2;
constexpr int64_t kOpenAclRef = -1;  // ReferenceCountedACLCache.OPEN_UNSAFE_ACL_ID
constexpr int64_t kExtendedMask = static_cast<int64_t>(0xff00000000000000ULL);
constexpr int64_t kReservedMask = 0x00ffff0000000000LL;
constexpr int64_t kTtlValueMask = ~(kExtendedMask | kReservedMask);

int StatusOf(const Cursor& c) { return c.ok() ? kOk : c.status() == Cursor::Status::kNeedMore ? kMore : kBad; }

void ReadStat(Cursor& c, tree::StatPersisted* s) {
  s->czxid = c.I64();
  s->mzxid = c.I64();
  s->ctime = c.I64();
  s->mtime = c.I64();
  s->version = c.I32();
  s->cversion = c.I32();
  s->aversion = c.I32();
  s->ephemeral_owner = c.I64();
  s->pzxid = c.I64();
}

const proto::AclList& OpenAcl() {
  static const proto::AclList open = {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}};
  return open;
}

}  // namespace

bool KindOfOwner(int64_t owner, tree::NodeKind* kind, int64_t* ttl_ms) {
  *ttl_ms = 0;
  if (owner == tree::kContainerOwner) {
    *kind = tree::NodeKind::kContainer;
  } else if ((owner & kExtendedMask) == kExtendedMask) {
    if ((owner & kReservedMask) != 0) return false;
    *kind = tree::NodeKind::kTtl;
    *ttl_ms = owner & kTtlValueMask;
  } else {
    *kind = owner == 0 ? tree::NodeKind::kPersistent : tree::NodeKind::kEphemeral;
  }
  return true;
}

SnapshotLoader::SnapshotLoader(tree::DataTree* tree, SnapshotLimits limits) : tree_(tree), limits_(limits) {}

int SnapshotLoader::Fail(std::string msg) {
  error_ = std::move(msg);
  return kBad;
}

int SnapshotLoader::StepSession(std::string_view in, size_t* used) {
  Cursor c(in);
  storage::SessionRecord s;
  s.id = c.I64();
  s.timeout_ms = c.I32();
  if (!c.ok()) return StatusOf(c);
  sessions_.push_back(s);
  *used = c.pos();
  return kOk;
}

int SnapshotLoader::StepAcl(std::string_view in, size_t* used) {
  Cursor c(in);
  int64_t ref = c.I64();
  int32_t n = c.I32();
  if (!c.ok()) return StatusOf(c);
  if (n < 0 || static_cast<size_t>(n) > limits_.max_acl_entries) {
    return Fail("ACL list " + std::to_string(ref) + " has a bad count " + std::to_string(n));
  }
  proto::AclList list;
  for (int32_t i = 0; i < n && c.ok(); ++i) {
    proto::Acl a;
    a.perms = c.I32();
    a.id.scheme = std::string(c.Buf(limits_.max_id_bytes));
    a.id.id = std::string(c.Buf(limits_.max_id_bytes));
    list.push_back(std::move(a));
  }
  if (!c.ok())
    return c.status() == Cursor::Status::kBad ? Fail("ACL list " + std::to_string(ref) + ": bad length") : kMore;
  if (ref == kOpenAclRef || !acls_.emplace(ref, std::move(list)).second) {
    return Fail("ACL ref " + std::to_string(ref) + " is reserved or given twice");
  }
  *used = c.pos();
  return kOk;
}

int SnapshotLoader::StepNode(std::string_view in, size_t* used) {
  Cursor c(in);
  std::string path(c.Buf(limits_.max_path_bytes));
  if (c.ok() && path == "/") {
    if (!root_seen_) return Fail("snapshot has no root node");
    *used = c.pos();
    stage_ = Stage::kDone;
    tree_->RebuildQuotas();  // DataTree.deserialize's setupQuota
    return kOk;
  }
  tree::Node node;
  bool is_null = false;
  node.data = std::string(c.Buf(limits_.max_data_bytes, &is_null));
  node.data_null = is_null;
  int64_t ref = c.I64();
  tree::StatPersisted stat;
  ReadStat(c, &stat);
  node.set_persisted(stat);
  if (!c.ok()) return c.status() == Cursor::Status::kBad ? Fail("node " + path + ": bad length") : kMore;
  auto acl = acls_.find(ref);
  if (ref != kOpenAclRef && acl == acls_.end())
    return Fail("node " + path + ": unknown ACL ref " + std::to_string(ref));
  int64_t ttl_ms = 0;  // implied by ephemeral_owner (Node::ttl_ms())
  if (!KindOfOwner(node.ephemeral_owner(), &node.kind, &ttl_ms)) return Fail("node " + path + ": bad owner");
  if (path.empty() != !root_seen_) return Fail(root_seen_ ? "second root node" : "first node is not the root");
  if (!path.empty() && tree::ValidatePath(path, false) != proto::Err::kOk) return Fail("bad path " + path);
  if (!path.empty() && tree_->Find(tree::ParentOf(path)) == nullptr) return Fail("node " + path + " before its parent");
  if (path.empty() && node.kind != tree::NodeKind::kPersistent) return Fail("root is not persistent");
  proto::Err e = tree_->RestoreNode(path.empty() ? "/" : path, node, ref == kOpenAclRef ? OpenAcl() : acl->second);
  if (e != proto::Err::kOk) return Fail("node " + path + ": cannot restore");
  root_seen_ = true;
  ++nodes_;
  *used = c.pos();
  return kOk;
}

SnapshotLoader::Status SnapshotLoader::Feed(std::string_view in, size_t* consumed) {
  *consumed = 0;
  while (stage_ != Stage::kDone && stage_ != Stage::kError) {
    std::string_view rest = in.substr(*consumed);
    size_t used = 0;
    int st = kOk;
    if (stage_ == Stage::kSessionCount || stage_ == Stage::kAclCount) {
      Cursor c(rest);
      int32_t n = c.I32();
      st = StatusOf(c);
      if (st == kOk && n < 0) st = Fail("negative count");
      if (st == kOk) {
        left_ = n;
        used = 4;
        stage_ = stage_ == Stage::kSessionCount ? Stage::kSessions : Stage::kAcls;
      }
    } else if (stage_ == Stage::kSessions || stage_ == Stage::kAcls) {
      if (left_ == 0) {
        stage_ = stage_ == Stage::kSessions ? Stage::kAclCount : Stage::kNodes;
        continue;
      }
      st = stage_ == Stage::kSessions ? StepSession(rest, &used) : StepAcl(rest, &used);
      if (st == kOk) --left_;
    } else {
      st = StepNode(rest, &used);
    }
    if (st == kMore) return Status::kNeedMore;
    if (st == kBad) {
      if (error_.empty()) error_ = "malformed snapshot";
      stage_ = Stage::kError;
      return Status::kError;
    }
    *consumed += used;
  }
  return stage_ == Stage::kDone ? Status::kDone : Status::kError;
}

void WriteSnapSignature(std::string* out) { proto::jute::Writer(out).WriteString(kSnapSignature); }

SnapshotLoader::Status ReadSnapSignature(std::string_view in, size_t* consumed) {
  Cursor c(in);
  std::string_view sig = c.Buf(kSnapSignature.size());
  *consumed = 0;
  if (c.status() == Cursor::Status::kNeedMore) return SnapshotLoader::Status::kNeedMore;
  if (!c.ok() || sig != kSnapSignature) return SnapshotLoader::Status::kError;
  *consumed = c.pos();
  return SnapshotLoader::Status::kDone;
}

SnapshotLoader::Status SnapSectionReader::Feed(std::string_view in, size_t* consumed) {
  *consumed = 0;
  if (!body_done_) {
    SnapshotLoader::Status st = loader_.Feed(in, consumed);
    if (st != SnapshotLoader::Status::kDone) return st;
    body_done_ = true;
  }
  size_t used = 0;
  SnapshotLoader::Status st = ReadSnapSignature(in.substr(*consumed), &used);
  if (st == SnapshotLoader::Status::kError) error_ = "no \"BenWasHere\" signature after the snapshot";
  *consumed += used;
  return st;
}

namespace {

class ChunkWriter {
 public:
  explicit ChunkWriter(const std::function<bool(std::string_view)>& sink) : sink_(sink), w_(&buf_) {}
  proto::jute::Writer& w() { return w_; }
  bool Maybe() { return buf_.size() < (1u << 20) || Flush(); }
  bool Flush() {
    bool ok = buf_.empty() || sink_(buf_);
    buf_.clear();
    return ok;
  }

 private:
  const std::function<bool(std::string_view)>& sink_;
  std::string buf_;
  proto::jute::Writer w_;
};

void WriteNode(proto::jute::Writer& w, std::string_view path, const tree::Node& n) {
  w.WriteString(path);
  w.WriteBuffer(n.data, n.data_null);
  w.WriteInt64(static_cast<int64_t>(n.acl));
  tree::WriteStatPersisted(w, n.persisted());
}

bool WriteAcls(const tree::DataTree& tree, ChunkWriter& out) {
  std::map<uint64_t, const proto::AclList*> used;
  tree.ForEach([&](const std::string&, const tree::Node& n) { used.emplace(n.acl, &tree.AclOf(n)); });
  out.w().WriteInt32(static_cast<int32_t>(used.size()));
  for (const auto& [ref, list] : used) {
    out.w().WriteInt64(static_cast<int64_t>(ref));
    out.w().WriteVectorCount(list->size());
    for (const proto::Acl& a : *list) {
      out.w().WriteInt32(a.perms);
      out.w().WriteString(a.id.scheme);
      out.w().WriteString(a.id.id);
    }
    if (!out.Maybe()) return false;
  }
  return true;
}

}  // namespace

bool WriteSnapshotBody(const tree::DataTree& tree, const std::vector<storage::SessionRecord>& sessions,
                       const std::function<bool(std::string_view)>& sink) {
  ChunkWriter out(sink);
  out.w().WriteInt32(static_cast<int32_t>(sessions.size()));
  for (const storage::SessionRecord& s : sessions) {
    out.w().WriteInt64(s.id);
    out.w().WriteInt32(s.timeout_ms);
  }
  if (!WriteAcls(tree, out)) return false;
  // Pre-order DFS with an explicit stack (deep trees must not overflow).
  std::vector<std::string> stack = {"/"};
  while (!stack.empty()) {
    std::string path = std::move(stack.back());
    stack.pop_back();
    const tree::Node* n = tree.Find(path);
    if (n == nullptr) continue;
    WriteNode(out.w(), path == "/" ? std::string_view() : std::string_view(path), *n);
    std::string prefix = path == "/" ? "/" : path + "/";
    for (auto it = n->children().rbegin(); it != n->children().rend(); ++it) stack.push_back(prefix + std::string(*it));
    if (!out.Maybe()) return false;
  }
  out.w().WriteString("/");
  return out.Flush();
}

}  // namespace aviary::zkformat
