// SnapStream: the body a leader sends after a SNAP packet (ZooKeeper's
// snapshot serialisation, then "BenWasHere": zkformat/snapshot.h), produced
// without copying the tree and without stalling the core: Start forks a
// child process that holds a copy-on-write image of the tree at that
// instant (so the body is exact, not fuzzy) and writes the body into a
// pipe; the owner reads it back a bounded piece at a time (Read never
// blocks) and feeds the quorum transport as its backlog drains, so memory
// stays bounded by the pipe plus one piece, whatever the tree's size.
//
// Threads: Start on the core thread (the tree must not change during the
// call); everything else from one owner thread (the consensus thread).
// The child dies with the server (PR_SET_PDEATHSIG) and is killed and
// reaped when the stream is destroyed before it finished.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/snapshot.h"
#include "tree/data_tree.h"

namespace aviary::server {

class SnapStream {
 public:
  // nullptr with *error when the pipe or the fork fails.
  static std::unique_ptr<SnapStream> Start(const tree::DataTree& tree,
                                           const std::vector<storage::SessionRecord>& sessions, std::string* error);
  ~SnapStream();
  SnapStream(const SnapStream&) = delete;
  SnapStream& operator=(const SnapStream&) = delete;

  enum class Status { kMore, kDone, kFailed };
  // Appends to *out what the pipe holds now, at most max_bytes. kMore: call
  // again later (possibly nothing was read); kDone: the whole body and
  // signature were read and the child exited cleanly; kFailed: error() says
  // why (the child failed or died; the bytes read so far are not a body).
  Status Read(size_t max_bytes, std::string* out);
  int64_t bytes_read() const { return bytes_read_; }
  const std::string& error() const { return error_; }

 private:
  SnapStream(int fd, pid_t pid) : fd_(fd), pid_(pid) {}
  Status Reap();

  int fd_ = -1;
  pid_t pid_ = 0;  // 0 once reaped
  bool eof_ = false;
  int64_t bytes_read_ = 0;
  std::string error_;
};

}  // namespace aviary::server
