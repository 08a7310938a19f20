// Reading a range of the log for ZAB's DIFF: the txns with zxid in
// (from, to] straight from the segments on disk, one at a time (one segment
// mapped at a time, nothing accumulated: memory does not grow with the
// range), and whether the log still covers `from`, i.e. whether a DIFF can
// bring a learner whose last zxid is `from` up to `to` or a SNAP is needed.
//
// covers_from() is true when the log holds a record with zxid == from (a
// zxid names one txn: one leader proposes per epoch), or when the log's
// oldest record is from + 1 (e.g. from == 0 and the log starts at zxid 1),
// or when a segment named from + 1 starts with the record from + 1 (it was
// opened right after `from`: a learner that installed a SNAP at `from` on
// top of an older log has a gap before it, which such a range skips).
// It is false when the log was purged past `from`, or when `from` is a zxid
// this log never had (a learner's txn the leader does not have: TRUNC or
// SNAP). A log whose first txn opens an epoch (0x100000001) does not cover
// from == 0: a fresh learner gets a SNAP, as in ZooKeeper.
//
// The caller passes to <= the last committed (hence synced) zxid; the log
// writer may append meanwhile: records after `to` are never needed, so a
// torn tail being written past them does not matter. A segment purged
// while the range is read ends it with an error (then send a SNAP).
// Not thread-safe; one reader per learner, any thread, read-only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/layout.h"
#include "storage/wal_reader.h"
#include "txn/txn.h"

namespace aviary::storage {

// The oldest zxid the log in log_dir holds (the first record of the first
// segment that has one); *zxid = -1 when it holds none. false on an error
// reading that segment.
bool OldestLoggedZxid(const std::string& log_dir, int64_t* zxid, std::string* error);

class LogRangeReader {
 public:
  LogRangeReader() = default;
  LogRangeReader(const LogRangeReader&) = delete;
  LogRangeReader& operator=(const LogRangeReader&) = delete;

  // Lists the segments and reads up to the first record after `from`.
  // false on an unreadable or corrupt segment before that point.
  bool Open(const std::string& log_dir, int64_t from, int64_t to, std::string* error);
  bool covers_from() const { return covers_from_; }
  // The next txn with zxid in (from, to], in zxid order. false at the end:
  // then error() is empty when `to` was reached (or from >= to), otherwise
  // it says why (the log ends before `to`, a gap, a corrupt record).
  bool Next(txn::Txn* t);
  const std::string& error() const { return error_; }

 private:
  // The next record of the log after the current position; false at its
  // end (error_ set when the end is not clean).
  bool ReadRecord(SegmentRecord* rec);
  bool Fail(std::string why);

  std::vector<FileEntry> segs_;
  size_t seg_ = 0;
  std::unique_ptr<SegmentReader> reader_;
  int64_t from_ = 0, to_ = 0;
  int64_t prev_ = -1;  // zxid of the last record read
  bool covers_from_ = false;
  bool has_pending_ = false;
  SegmentRecord pending_;  // the first record after `from`, read by Open
  bool done_ = false;
  std::string error_;
};

}  // namespace aviary::storage
