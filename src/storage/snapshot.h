// Fuzzy snapshots (format: docs/format/snapshot.md).
// SnapshotBuilder runs on the core thread: each Step serialises up to
// max_nodes more nodes (or as many as fit in max_us) in DFS pre-order from
// "/" while the core keeps applying writes between calls. Its cursor is a
// stack of (path, czxid, last child name) resumed with upper_bound on the
// sorted children, so it survives any creates/deletes between calls; a
// frame whose node vanished or was re-created (czxid changed) is skipped.
// Within one call it follows child pointers (no path lookup per node).
// With deferred sealing the builder only encodes records: each full block
// is handed out raw (TakeRawBlocks) for another thread to compress, CRC
// and write with snapblock::Seal, so the core pays for the walk alone. Each node is copied as it is at
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

// A block's records, not yet sealed: snapblock::Seal(records, codec, seq).
struct RawBlock {
  uint32_t seq = 0;
  std::string records;
};

class SnapshotBuilder {
 public:
  // zxid = the last applied zxid when the snapshot starts. deferred_seal:
  // full blocks are kept raw for TakeRawBlocks instead of being sealed
  // into Step's chunk.
  SnapshotBuilder(int64_t zxid, std::vector<SessionRecord> sessions, snapblock::Codec codec = snapblock::Codec::kZstd,
                  bool deferred_seal = false);
  // Appends the bytes of up to max_nodes more nodes (the first call also
  // writes header + sessions) to *chunk: whole blocks only, so a chunk may
  // be empty while the current block fills. With max_us > 0 the call also
  // stops once that much time has passed (checked every few dozen nodes).
  // true when the walk is complete.
  bool Step(const tree::DataTree& tree, size_t max_nodes, std::string* chunk, int64_t max_us = 0);
  // The last block and the trailer (node count, block count, CRC-32C of
  // the trailer). Call once, after Step returned true. Deferred: the last
  // block goes to TakeRawBlocks (write those before the trailer).
  std::string Finish();
  // Deferred sealing: the blocks cut since the last call, in sequence
  // order. The file is Step's chunks and these, in the order they were
  // produced (a chunk before the blocks of the same call), then Finish's.
  std::vector<RawBlock> TakeRawBlocks() { return std::move(raw_blocks_); }
  // The closeSession txn `zxid` is about to sweep `paths` (its session's
  // ephemerals) while this walk is under way. The txn does not list them, and
  // the walk may have copied a parent before the sweep but never see the
  // swept child, so the paths go into the snapshot ('D' record) for replay
  // to delete them again (which brings each parent's pzxid up to `zxid`).
  void NoteSwept(int64_t zxid, const std::vector<std::string>& paths);
  int64_t zxid() const { return zxid_; }
  uint64_t nodes_written() const { return nodes_; }
  // Time spent in Step so far (the core's share of a fuzzy snapshot).
  int64_t steps() const { return steps_; }
  int64_t step_us_total() const { return step_us_total_; }
  int64_t step_us_max() const { return step_us_max_; }

 private:
  // One level of the walk: an ancestor of (or) the node emitted last, whose
  // path is the first path_len bytes of path_.
  struct Frame {
    size_t path_len = 0;
    int64_t czxid = 0;
    std::string last;  // last child name visited (set when a Step ends); empty = none yet
    bool started = false;
    // Valid within one Step call only (the tree may change between calls):
    // the node, the next child to visit, whether `next` moved this call.
    const tree::Node* node = nullptr;
    tree::ChildList::const_iterator next;
    bool moved = false;
  };
  void WriteHeader(const tree::DataTree& tree, std::string* chunk);
  // Resolves the top frame's node at the start of a call; false when it is
  // gone (the frame is popped).
  bool Resolve(const tree::DataTree& tree, Frame* f);
  void Suspend();
  void Emit(const tree::Node& n, const tree::DataTree& tree, std::string* chunk);
  void FlushSwept();
  void SealBlock(std::string* chunk);

  int64_t zxid_;
  std::vector<SessionRecord> sessions_;
  std::vector<Frame> stack_;
  std::string path_;  // path of the node emitted last; every frame's path is a prefix
  bool header_done_ = false;
  bool done_ = false;
  uint64_t nodes_ = 0;
  snapblock::Codec codec_;
  snaprec::Encoder encoder_;
  std::string raw_;      // records of the block being filled
  uint32_t blocks_ = 0;  // blocks sealed so far (the next one's sequence number)
  std::string swept_;    // 'D' records noted since the last Step
  bool deferred_seal_;
  std::vector<RawBlock> raw_blocks_;
  int64_t steps_ = 0;
  int64_t step_us_total_ = 0;
  int64_t step_us_max_ = 0;
};

// How SnapshotFileWriter hands its bytes to the disk, which the log's
// durable writes share (aviary.snapshotWritebackKiB,
// aviary.snapshotBoundedWriteback).
struct SnapshotWriteback {
  // Writeback of the bytes written so far starts every range_bytes
  // (sync_file_range WRITE); 0: none, Commit's fsync writes everything.
  int64_t range_bytes = 1 << 20;
  // Bounded: once a range's writeback has started, wait until the range
  // before it is on disk (sync_file_range WAIT_BEFORE | WRITE | WAIT_AFTER),
  // so at most two ranges of the snapshot are dirty or queued at the device
  // at any time and Commit's fsync finds at most that much left. The wait
  // reports a writeback error (which the kernel reports only once, so it is
  // not left for the fsync to miss): the write fails. Unbounded: the hints
  // are not waited for and their errors are left to Commit's fsync.
  bool bounded = false;
};

class SnapshotFileWriter {
 public:
  SnapshotFileWriter() = default;
  explicit SnapshotFileWriter(SnapshotWriteback wb) : wb_(wb) {}
  ~SnapshotFileWriter();  // Abort()s an uncommitted file
  SnapshotFileWriter(const SnapshotFileWriter&) = delete;
  SnapshotFileWriter& operator=(const SnapshotFileWriter&) = delete;

  // snap_dir = dataDir; the file goes to VersionDir(snap_dir).
  bool Begin(const std::string& snap_dir, int64_t zxid, std::string* error);
  // Every range_bytes written, writeback of those bytes is started (and,
  // bounded, the range before them waited for: SnapshotWriteback), so that
  // Commit's fsync, and the log's fsyncs that share the disk with it, find
  // little left to write.
  bool Write(std::string_view chunk, std::string* error);
  bool Commit(std::string* error);  // durable after this returns true
  void Abort();                     // closes and removes the tmp file
  const std::string& final_path() const { return final_path_; }
  int64_t bytes_written() const { return written_; }

 private:
  bool StartWriteback(std::string* error);

  SnapshotWriteback wb_;
  int fd_ = -1;
  int64_t written_ = 0;       // bytes written so far
  int64_t written_back_ = 0;  // bytes whose writeback was started
  int64_t waited_ = 0;        // bounded: bytes known to be on disk (the waits returned)
  std::string dir_;
  std::string tmp_path_;
  std::string final_path_;
};

}  // namespace aviary::storage
