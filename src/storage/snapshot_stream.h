// Internal: reading the body of a format-3 snapshot (docs/format/snapshot.md,
// "Format 3") from a mapped file: block after block, each header bounded by
// the file, its CRC checked, expanded, then its records decoded in order.
// SnapshotStream is single-threaded; SnapshotPump runs one on its own
// thread and hands decoded nodes over in batches through a bounded queue,
// so decompression and decoding overlap the caller building the tree. A
// batch is one buffer of the nodes' paths and data plus fixed-size entries:
// the consumer gets views (NodeView), no allocation per node.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/snapshot_block.h"
#include "storage/snapshot_records.h"

namespace aviary::storage {

struct SnapshotBody {
  const char* data = nullptr;  // the whole file
  size_t begin = 0;            // first block
  size_t end = 0;              // the trailer
  uint64_t nodes = 0;          // the trailer's counts
  uint32_t blocks = 0;
  std::string path;  // for messages
};

// Checks every block's header, bounds, sequence and CRC without expanding
// it. Empty when valid; else the problem, naming file and offset.
std::string VerifySnapshotBody(const SnapshotBody& body);

class SnapshotStream {
 public:
  enum class Result { kNode, kEnd, kError };
  explicit SnapshotStream(SnapshotBody body) : body_(std::move(body)), pos_(body_.begin) {}
  // The next node; kEnd after the last one once the counts matched. The
  // view is valid until the next call.
  Result Next(NodeView* n);
  Result Next(SnapshotNode* n);
  const std::string& error() const { return error_; }
  int64_t offset() const { return static_cast<int64_t>(block_at_); }
  std::map<int64_t, std::vector<std::string>>& swept() { return swept_; }

 private:
  bool LoadBlock();
  Result Fail(const std::string& what);

  SnapshotBody body_;
  size_t pos_;           // next block
  size_t block_at_ = 0;  // current block (for messages)
  uint32_t seq_ = 0;
  std::string raw_;
  size_t raw_pos_ = 0;
  uint64_t nodes_ = 0;
  snaprec::Decoder decoder_;
  std::map<int64_t, std::vector<std::string>> swept_;
  std::string error_;
};

class SnapshotPump {
 public:
  explicit SnapshotPump(SnapshotBody body);
  ~SnapshotPump();  // stops and joins the thread
  SnapshotPump(const SnapshotPump&) = delete;
  SnapshotPump& operator=(const SnapshotPump&) = delete;

  // As SnapshotStream::Next, from the caller's thread; the view is valid
  // until the next call.
  SnapshotStream::Result Next(NodeView* n);
  SnapshotStream::Result Next(SnapshotNode* n);
  // Valid once Next returned kEnd or kError.
  const std::string& error() const { return error_; }
  int64_t offset() const { return offset_; }
  const std::map<int64_t, std::vector<std::string>>& swept() const { return swept_; }

 private:
  // One node of a batch: its path and data are at these offsets of `bytes`.
  struct Entry {
    size_t path_at = 0;
    size_t data_at = 0;
    uint32_t path_len = 0;
    uint32_t data_len = 0;
    tree::StatPersisted stat;
    const proto::AclList* acl = nullptr;
    tree::NodeKind kind = tree::NodeKind::kPersistent;
    bool data_null = false;
  };
  struct Batch {
    std::string bytes;
    std::vector<Entry> nodes;
    SnapshotStream::Result last = SnapshotStream::Result::kNode;  // kEnd/kError: the stream's end
  };
  // Decodes up to a batch's worth of nodes; *r is the stream's last result.
  Batch Fill(SnapshotStream::Result* r);
  void Run();

  SnapshotStream stream_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool stop_ = false;
  Batch current_;
  size_t at_ = 0;
  std::string error_;
  int64_t offset_ = 0;
  std::map<int64_t, std::vector<std::string>> swept_;
  std::thread thread_;
};

}  // namespace aviary::storage
