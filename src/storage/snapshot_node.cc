#include "storage/snapshot_node.h"

#include "proto/jute.h"
#include "proto/record_io.h"
#include "tree/stat_io.h"

namespace aviary::storage::snapnode {

void EncodeBody(const std::string& path, const tree::Node& n, const proto::AclList& acl, std::string* out) {
  proto::jute::Writer w(out);
  w.WriteString(path);
  out->push_back(n.data_null ? 1 : 0);
  w.WriteBuffer(n.data);
  proto::io::Write(w, acl);
  tree::WriteStatPersisted(w, n.persisted());
  out->push_back(static_cast<char>(n.kind));
  w.WriteInt64(n.ttl_ms());
}

bool DecodeBody(std::string_view body, std::string* path, tree::Node* n, proto::AclList* acl) {
  proto::jute::Reader r(body);
  *path = r.ReadString();
  std::string_view flag = r.ReadRaw(1);
  if (!r.ok() || path->empty() || (*path)[0] != '/' || static_cast<uint8_t>(flag[0]) > 1) return false;
  n->data_null = flag[0] == 1;
  n->data = r.ReadBuffer();
  proto::io::Read(r, acl);
  tree::StatPersisted stat;
  tree::ReadStatPersisted(r, &stat);
  n->set_persisted(stat);
  std::string_view kind = r.ReadRaw(1);
  if (!r.ok() || static_cast<uint8_t>(kind[0]) > static_cast<uint8_t>(tree::NodeKind::kTtl)) return false;
  n->kind = static_cast<tree::NodeKind>(kind[0]);
  r.ReadInt64();  // the TTL: the tree derives it from ephemeral_owner
  return r.ok() && r.remaining() == 0;
}

}  // namespace aviary::storage::snapnode
