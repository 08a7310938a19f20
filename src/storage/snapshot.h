// Fuzzy snapshots (format: docs/format/snapshot.md).
// SnapshotBuilder runs on the core thread: each Step serialises up to
// max_nodes more nodes in DFS pre-order from "/" while the core keeps
// applying writes between calls. Its cursor is a stack of (path, czxid,
// last child name) resumed with std::set::upper_bound, so it survives any
// creates/deletes between calls; a frame whose node vanished or was
// re-created (czxid changed) is skipped. Each node is copied as it is at
// the moment it is visited, so the snapshot is "fuzzy": replaying every
// txn with zxid > zxid() over it yields the live tree (see recovery.h).
// Files are written in format 3 (blocks of records, each checksummed and
// zstd-compressed unless told otherwise); formats 1 and 2 are still read.
// SnapshotFileWriter runs on the storage thread: chunks go to
// snapshot.<zxid>.tmp; Commit fsyncs, renames to snapshot.<zxid> and fsyncs
// the directory. Neither class is thread-safe; hand chunks between threads
// by value.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/limits.h"
#include "storage/snapshot_block.h"
#include "storage/snapshot_records.h"
#include "tree/data_tree.h"

namespace aviary::storage {

inline constexpr char kSnapMagic[8] = {'A', 'V', 'I', 'A', 'R', 'Y', 'S', 'N'};
inline constexpr char kSnapTrailerMagic[8] = {'A', 'V', 'S', 'N', 'T', 'A', 'I', 'L'};
inline constexpr uint32_t kSnapVersion = 3;        // blocks; 2 and 1 (no 'D' records) are still read
inline constexpr uint32_t kSnapVersionV2 = 2;      // one stream with a whole-file CRC
inline constexpr size_t kSnapHeaderBytes = 28;     // magic, version, flags/reserved, zxid, session count
inline constexpr size_t kSnapSessionBytes = 12;    // id, timeout_ms
inline constexpr size_t kSnapTrailerBytes = 21;    // v1/v2: 'E', magic, node count, crc
inline constexpr size_t kSnapTrailerV3Bytes = 25;  // v3: 'E', magic, node count, block count, crc
inline constexpr char kSnapNodeTag = 'N';
inline constexpr char kSnapEndTag = 'E';
inline constexpr char kSnapSweptTag = 'D';
inline constexpr uint32_t kMaxSnapNodeBytes = kMaxRecordBytes;  // storage/limits.h

struct SessionRecord {
  int64_t id = 0;
  int32_t timeout_ms = 0;
  bool operator==(const SessionRecord&) const = default;
};

class SnapshotBuilder {
 public:
  // zxid = the last applied zxid when the snapshot starts.
  SnapshotBuilder(int64_t zxid, std::vector<SessionRecord> sessions, snapblock::Codec codec = snapblock::Codec::kZstd);
  // Appends the bytes of up to max_nodes more nodes (the first call also
  // writes header + sessions) to *chunk: whole blocks only, so a chunk may
  // be empty while the current block fills. true when the walk is complete.
  bool Step(const tree::DataTree& tree, size_t max_nodes, std::string* chunk);
  // The last block and the trailer (node count, block count, CRC-32C of
  // the trailer). Call once, after Step returned true.
  std::string Finish();
  // The closeSession txn `zxid` is about to sweep `paths` (its session's
  // ephemerals) while this walk is under way. The txn does not list them, and
  // the walk may have copied a parent before the sweep but never see the
  // swept child, so the paths go into the snapshot ('D' record) for replay
  // to delete them again (which brings each parent's pzxid up to `zxid`).
  void NoteSwept(int64_t zxid, const std::vector<std::string>& paths);
  int64_t zxid() const { return zxid_; }
  uint64_t nodes_written() const { return nodes_; }

 private:
  struct Frame {
    std::string path;
    int64_t czxid = 0;
    std::string last;  // last child name visited; empty = none yet
    bool started = false;
    // Valid within one Step call only (the tree may change between calls):
    // the node, and the next child to visit. Saves a lookup and a set
    // search per node.
    const tree::Node* node = nullptr;
    tree::ChildList::const_iterator next;
  };
  void Emit(const std::string& path, const tree::Node& n, const tree::DataTree& tree, std::string* chunk);
  void FlushSwept();
  void SealBlock(std::string* chunk);

  int64_t zxid_;
  std::vector<SessionRecord> sessions_;
  std::vector<Frame> stack_;
  bool header_done_ = false;
  bool done_ = false;
  uint64_t nodes_ = 0;
  snapblock::Codec codec_;
  snaprec::Encoder encoder_;
  std::string raw_;      // records of the block being filled
  uint32_t blocks_ = 0;  // blocks sealed so far (the next one's sequence number)
  std::string swept_;    // 'D' records noted since the last Step
};

class SnapshotFileWriter {
 public:
  SnapshotFileWriter() = default;
  ~SnapshotFileWriter();  // Abort()s an uncommitted file
  SnapshotFileWriter(const SnapshotFileWriter&) = delete;
  SnapshotFileWriter& operator=(const SnapshotFileWriter&) = delete;

  // snap_dir = dataDir; the file goes to VersionDir(snap_dir).
  bool Begin(const std::string& snap_dir, int64_t zxid, std::string* error);
  bool Write(std::string_view chunk, std::string* error);
  bool Commit(std::string* error);  // durable after this returns true
  void Abort();                     // closes and removes the tmp file
  const std::string& final_path() const { return final_path_; }

 private:
  int fd_ = -1;
  std::string dir_;
  std::string tmp_path_;
  std::string final_path_;
};

}  // namespace aviary::storage
