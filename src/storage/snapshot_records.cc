#include "storage/snapshot_records.h"

#include "proto/jute.h"
#include "proto/record_io.h"
#include "tree/stat_io.h"

namespace aviary::storage::snaprec {
namespace {

size_t SharedPrefix(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace
}  // namespace aviary::storage::snaprec

namespace aviary::storage {

void CopyNode(const NodeView& v, SnapshotNode* out) {
  out->path.assign(v.path);
  out->node.set_persisted(v.stat);
  out->node.data = v.data;
  out->node.kind = v.kind;
  out->node.data_null = v.data_null;
  out->acl = *v.acl;
}

}  // namespace aviary::storage

namespace aviary::storage::snaprec {

void Encoder::Node(const std::string& path, const tree::Node& n, const proto::AclList& acl, std::string* raw) {
  proto::jute::Writer w(raw);
  auto [it, fresh] = acl_index_.try_emplace(n.acl, static_cast<int32_t>(acl_index_.size()));
  if (fresh) {
    raw->push_back(kAclTag);
    w.WriteInt32(it->second);
    proto::io::Write(w, acl);
  }
  const size_t shared = SharedPrefix(prev_, path);
  raw->push_back(kNodeTag);
  w.WriteInt32(static_cast<int32_t>(shared));
  w.WriteBuffer(std::string_view(path).substr(shared));
  raw->push_back(n.data_null ? 1 : 0);
  raw->push_back(static_cast<char>(n.kind));
  w.WriteInt32(it->second);
  w.WriteBuffer(n.data);
  tree::WriteStatPersisted(w, n.persisted());
  if (n.kind == tree::NodeKind::kTtl) w.WriteInt64(n.ttl_ms());
  prev_ = path;
}

void Encoder::Swept(int64_t zxid, const std::vector<std::string>& paths, std::string* raw) {
  proto::jute::Writer w(raw);
  raw->push_back(kSweptTag);
  w.WriteInt64(zxid);
  w.WriteInt32(static_cast<int32_t>(paths.size()));
  for (const std::string& p : paths) w.WriteBuffer(p);
}

Decoder::Kind Decoder::Next(std::string_view raw, size_t* pos, NodeView* out,
                            std::map<int64_t, std::vector<std::string>>* swept, std::string* why) {
  why->clear();
  while (*pos < raw.size()) {
    const char tag = raw[(*pos)++];
    if (tag == kAclTag) {
      if (!DecodeAcl(raw, pos, why)) return Kind::kError;
    } else if (tag == kNodeTag) {
      return DecodeNode(raw, pos, out, why) ? Kind::kNode : Kind::kError;
    } else if (tag == kSweptTag) {
      return DecodeSwept(raw, pos, swept, why) ? Kind::kSwept : Kind::kError;
    } else {
      --*pos;
      *why = "bad record tag";
      return Kind::kError;
    }
  }
  return Kind::kError;
}

bool Decoder::DecodeAcl(std::string_view raw, size_t* pos, std::string* why) {
  proto::jute::Reader r(raw.substr(*pos));
  const int32_t index = r.ReadInt32();
  proto::AclList acl;
  proto::io::Read(r, &acl);
  if (!r.ok() || index != static_cast<int32_t>(acls_.size())) {
    *why = "malformed ACL record";
    return false;
  }
  acls_.push_back(std::move(acl));
  *pos = raw.size() - r.remaining();
  return true;
}

bool Decoder::DecodeNode(std::string_view raw, size_t* pos, NodeView* out, std::string* why) {
  proto::jute::Reader r(raw.substr(*pos));
  const int32_t shared = r.ReadInt32();
  const std::string_view rest = r.ReadBufferView();
  const std::string_view flags = r.ReadRaw(2);
  const int32_t acl = r.ReadInt32();
  if (!r.ok() || shared < 0 || static_cast<size_t>(shared) > prev_.size() || static_cast<uint8_t>(flags[0]) > 1 ||
      static_cast<uint8_t>(flags[1]) > static_cast<uint8_t>(tree::NodeKind::kTtl) || acl < 0 ||
      static_cast<size_t>(acl) >= acls_.size()) {
    *why = "malformed node record";
    return false;
  }
  prev_.resize(static_cast<size_t>(shared));
  prev_.append(rest);
  if (prev_.empty() || prev_[0] != '/') {
    *why = "malformed node record (path)";
    return false;
  }
  out->path = prev_;
  out->data_null = flags[0] == 1;
  out->kind = static_cast<tree::NodeKind>(flags[1]);
  out->data = r.ReadBufferView();
  tree::ReadStatPersisted(r, &out->stat);
  if (out->kind == tree::NodeKind::kTtl) r.ReadInt64();  // the TTL: the tree derives it from ephemeral_owner
  if (!r.ok()) {
    *why = "truncated node record";
    return false;
  }
  out->acl = &acls_[static_cast<size_t>(acl)];
  *pos = raw.size() - r.remaining();
  return true;
}

bool Decoder::DecodeSwept(std::string_view raw, size_t* pos, std::map<int64_t, std::vector<std::string>>* swept,
                          std::string* why) {
  proto::jute::Reader r(raw.substr(*pos));
  const int64_t zxid = r.ReadInt64();
  const int32_t count = r.ReadInt32();
  if (!r.ok() || count < 0 || static_cast<size_t>(count) > r.remaining() / 4) {
    *why = "malformed swept record";
    return false;
  }
  std::vector<std::string>& paths = (*swept)[zxid];
  for (int32_t i = 0; i < count && r.ok(); ++i) paths.emplace_back(r.ReadBufferView());
  if (!r.ok()) {
    *why = "malformed swept record";
    return false;
  }
  *pos = raw.size() - r.remaining();
  return true;
}

}  // namespace aviary::storage::snaprec
