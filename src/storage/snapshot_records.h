// Records of snapshot format 3 (docs/format/snapshot.md, "Format 3"), the
// bytes inside the blocks: 'N' nodes in pre-order with each path stored as
// the length it shares with the previous node's path plus the rest, ACLs
// as indexes into a table the file builds as it goes ('A' records, each
// before the first node that uses it), and 'D' swept records. The encoder
// and decoder each keep that running state (previous path, ACL table), so
// records are decoded in file order by one thread. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proto/records.h"
#include "tree/node.h"

namespace aviary::storage {

struct SnapshotNode {
  std::string path;
  tree::Node node;  // children empty; node.acl unused (see `acl`)
  proto::AclList acl;
};

// A decoded node record as views, for loaders that copy what they keep
// (recovery): no allocation per node. Valid until the next call on what
// produced it (path and data point into the decoder's or batch's bytes;
// acl into the decoder's table, which lives as long as the decoder).
struct NodeView {
  std::string_view path;
  std::string_view data;
  tree::StatPersisted stat;
  tree::NodeKind kind = tree::NodeKind::kPersistent;
  bool data_null = false;
  const proto::AclList* acl = nullptr;
};

// Copies a view into an owning SnapshotNode.
void CopyNode(const NodeView& v, SnapshotNode* out);

namespace snaprec {

inline constexpr char kNodeTag = 'N';
inline constexpr char kAclTag = 'A';
inline constexpr char kSweptTag = 'D';

class Encoder {
 public:
  // Appends the node's record (after an 'A' record when its ACL is new).
  void Node(const std::string& path, const tree::Node& n, const proto::AclList& acl, std::string* raw);
  // Appends a 'D' record.
  static void Swept(int64_t zxid, const std::vector<std::string>& paths, std::string* raw);

 private:
  std::string prev_;
  std::unordered_map<tree::AclCache::Ref, int32_t> acl_index_;
};

class Decoder {
 public:
  enum class Kind { kNode, kSwept, kError };
  // Decodes the record at raw[*pos] and advances *pos past it. 'A' records
  // are absorbed (the loop goes on to the next record; kSwept/kNode may thus
  // come from a later position). At the end of raw with nothing decoded:
  // kError with *why empty.
  // The node's views are valid until the next call.
  Kind Next(std::string_view raw, size_t* pos, NodeView* out, std::map<int64_t, std::vector<std::string>>* swept,
            std::string* why);

 private:
  bool DecodeNode(std::string_view raw, size_t* pos, NodeView* out, std::string* why);
  bool DecodeAcl(std::string_view raw, size_t* pos, std::string* why);
  bool DecodeSwept(std::string_view raw, size_t* pos, std::map<int64_t, std::vector<std::string>>* swept,
                   std::string* why);

  std::string prev_;
  std::deque<proto::AclList> acls_;  // a deque: views keep pointers into it
};

}  // namespace snaprec
}  // namespace aviary::storage
