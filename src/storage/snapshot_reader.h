// Reading snapshot files (format: docs/format/snapshot.md) for recovery and
// the dump tool. VerifySnapshotFile checks structure of header and trailer
// and the whole-file CRC-32C in one streaming pass without building
// anything; SnapshotReader then yields header, sessions and nodes one by
// one (it re-checks the CRC as it goes and reports a mismatch at the end).
// Every length is bounded by the bytes left in the file. Format 3 files are
// mapped and read block by block (snapshot_stream.h); with set_threaded
// their blocks are checked, expanded and decoded on a thread of the
// reader's own while the caller consumes nodes. Not thread-safe itself.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proto/records.h"
#include "storage/snapshot.h"
#include "storage/snapshot_stream.h"
#include "storage/snapshot_v3.h"
#include "tree/node.h"

namespace aviary::storage {

// true when the file is a complete, checksum-valid Aviary snapshot; else a
// message naming the file (and byte offset where one applies).
bool VerifySnapshotFile(const std::string& path, std::string* error);

class SnapshotReader {
 public:
  SnapshotReader() = default;
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // Before Open: decode format-3 blocks on a thread of their own.
  void set_threaded(bool on) { threaded_ = on; }
  // Opens and reads header + sessions. A ZooKeeper snapshot ("ZKSN") is
  // rejected with a clear message.
  bool Open(const std::string& path, std::string* error);
  const SnapshotHeader& header() const { return header_; }
  // The next node; false at the trailer (done() true, error() empty when
  // count and CRC match) or on error (error() names file and offset).
  bool Next(SnapshotNode* n);
  // The same as a view, valid until the next call (format 3: no
  // allocation per node).
  bool Next(NodeView* n);
  bool done() const { return done_; }
  const std::string& error() const { return error_; }
  uint64_t nodes_read() const { return nodes_; }
  // Paths swept by closeSession txns while the snapshot was taken, by zxid
  // (SnapshotBuilder::NoteSwept), as read so far.
  // Threaded: complete once Next returned false.
  const std::map<int64_t, std::vector<std::string>>& swept() const;
  int64_t offset() const;

 private:
  bool ReadExact(size_t n, std::string* out);
  bool Fail(const std::string& what);
  bool ReadSwept(int64_t rec_off);
  bool OpenV3(std::string* error);
  bool NextV3(NodeView* n);
  bool NextOld(SnapshotNode* n);  // formats 1 and 2

  std::FILE* f_ = nullptr;
  std::string path_;
  int64_t size_ = 0;
  int64_t offset_ = 0;
  uint32_t crc_ = 0;
  uint64_t nodes_ = 0;
  bool done_ = false;
  std::string error_;
  std::string buf_;
  SnapshotHeader header_;
  std::map<int64_t, std::vector<std::string>> swept_;
  SnapshotNode old_;  // formats 1 and 2: the node a view points into
  // Format 3.
  bool threaded_ = false;
  MappedFile map_;
  std::unique_ptr<SnapshotStream> stream_;
  std::unique_ptr<SnapshotPump> pump_;
};

}  // namespace aviary::storage
