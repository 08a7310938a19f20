// ZooKeeper's snapshot serialisation (SerializeUtils.serializeSnapshot):
// the bytes a ZooKeeper leader streams after a SNAP packet (followed there
// by the string "BenWasHere") and the body of a snapshot file
// (snapshot_file.h). Layout (docs/format/zookeeper.md):
//   int count, count x (long sessionId, int timeout)
//   int map, map x (long ref, vector<ACL>)            ReferenceCountedACLCache
//   per node, parents first: ustring path ("" = root), buffer data,
//     long aclRef (-1 = OPEN_ACL_UNSAFE), StatPersisted
//   ustring "/"                                        end of nodes
// SnapshotLoader parses it incrementally into a fresh DataTree: Feed it
// the bytes as they come; it takes whole items only and says how many
// bytes it used. Hostile input gives kError with a message, never a crash:
// every length is bounded (SnapshotLimits), every node needs its parent and
// a known ACL ref, paths are validated. Memory grows with the bytes fed
// only. WriteSnapshotBody produces the same layout from our tree (DFS,
// children sorted; ACL refs are our AclCache refs). Single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "proto/records.h"
#include "storage/snapshot.h"
#include "tree/data_tree.h"

namespace aviary::zkformat {

inline constexpr std::string_view kSnapSignature = "BenWasHere";  // after a SNAP body (LearnerHandler)

struct SnapshotLimits {
  size_t max_data_bytes = 64u << 20;  // one node's data
  size_t max_path_bytes = 1u << 20;
  size_t max_acl_entries = 1u << 16;  // ACLs in one list
  size_t max_id_bytes = 1u << 16;     // scheme / id of one ACL
};

class SnapshotLoader {
 public:
  enum class Status { kNeedMore, kDone, kError };

  // `tree` must be freshly constructed; it receives every node.
  explicit SnapshotLoader(tree::DataTree* tree, SnapshotLimits limits = {});

  // Consumes whole items from the front of `in` and sets *consumed; the
  // caller drops those bytes and calls again with more. kDone once the end
  // marker "/" was read (*consumed stops right after it).
  Status Feed(std::string_view in, size_t* consumed);

  const std::vector<storage::SessionRecord>& sessions() const { return sessions_; }
  const std::string& error() const { return error_; }
  uint64_t nodes() const { return nodes_; }

 private:
  enum class Stage { kSessionCount, kSessions, kAclCount, kAcls, kNodes, kDone, kError };
  // Each returns kOk after one whole item, kNeedMore, or kBad (error_ set).
  int StepSession(std::string_view in, size_t* used);
  int StepAcl(std::string_view in, size_t* used);
  int StepNode(std::string_view in, size_t* used);
  int Fail(std::string msg);

  tree::DataTree* tree_;
  SnapshotLimits limits_;
  Stage stage_ = Stage::kSessionCount;
  int64_t left_ = 0;  // sessions / ACL entries still to read
  bool root_seen_ = false;
  std::vector<storage::SessionRecord> sessions_;
  std::map<int64_t, proto::AclList> acls_;
  std::string error_;
  uint64_t nodes_ = 0;
};

// The jute ustring "BenWasHere" a leader writes right after a SNAP body,
// and its check on the learner's side (Learner.syncWithLeader). Read:
// kDone with *consumed = 14, kNeedMore, or kError when it is not there.
void WriteSnapSignature(std::string* out);
SnapshotLoader::Status ReadSnapSignature(std::string_view in, size_t* consumed);

// The whole section a learner reads after a SNAP packet: the body, then the
// signature. Same Feed contract as SnapshotLoader; kDone right after the
// signature, so the bytes after it (the next QuorumPacket) stay unconsumed.
// A quorum::RawSection can wrap it as is.
class SnapSectionReader {
 public:
  explicit SnapSectionReader(tree::DataTree* tree, SnapshotLimits limits = {}) : loader_(tree, limits) {}
  SnapshotLoader::Status Feed(std::string_view in, size_t* consumed);
  const SnapshotLoader& loader() const { return loader_; }
  // The loader's error, or that the signature was missing.
  const std::string& error() const { return error_.empty() ? loader_.error() : error_; }

 private:
  SnapshotLoader loader_;
  bool body_done_ = false;
  std::string error_;
};

// Writes the body for `tree` + `sessions` to `sink` in pieces of about
// 1 MiB (the last one smaller). Stops early and returns false when the sink
// returns false.
bool WriteSnapshotBody(const tree::DataTree& tree, const std::vector<storage::SessionRecord>& sessions,
                       const std::function<bool(std::string_view)>& sink);

// The node kind a raw ZooKeeper ephemeralOwner encodes (EphemeralType.get
// with extended types enabled); false for a TTL-marked owner with reserved
// bits set.
bool KindOfOwner(int64_t owner, tree::NodeKind* kind, int64_t* ttl_ms);

}  // namespace aviary::zkformat
