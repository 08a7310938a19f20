// aviary-dump: whole-file scans built on the storage readers: one log
// segment (record count, zxid range, where the data ends) and the checks of
// a directory that `verify` and `backup` share. Read-only; single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/wal_reader.h"

namespace aviary::dump {

struct SegmentScan {
  std::string path;
  std::string open_error;  // non-empty: header unreadable
  int64_t header_zxid = 0;
  int64_t file_size = 0;
  int64_t records = 0;
  int64_t first_zxid = -1, last_zxid = -1;
  storage::SegmentEnd end = storage::SegmentEnd::kNone;
  int64_t good_end = 0;  // offset just past the last good record
  int64_t bad_offset = -1;
  std::string bad_reason;
  std::string gap;  // first zxid discontinuity inside the segment, if any
};

SegmentScan ScanSegment(const std::string& path);
std::string EndText(const SegmentScan& s);  // "clean", "torn at offset N (...)", ...

// true when `next` may follow `prev` (prev + 1, or a new epoch).
bool Contiguous(int64_t prev, int64_t next);

struct DirCheck {
  std::vector<std::string> lines;     // one per file, for display
  std::vector<std::string> problems;  // corruption: file + offset + reason
  std::vector<std::string> warnings;  // torn tail of the last segment
};
// Checks every snapshot and segment under ResolveDir(dir)/version-2.
void CheckDir(const std::string& dir, DirCheck* out);

}  // namespace aviary::dump
