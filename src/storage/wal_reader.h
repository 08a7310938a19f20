// Reading WAL segments (format: docs/format/wal.md): header check and record
// iteration, for recovery and the dump tool. One SegmentReader reads one
// file (mmapped read-only); single-threaded; it never writes.
// Classification of where the data ends:
//   kClean   - a zero length field (or EOF) followed only by zeros/EOF;
//   kTorn    - what a crash leaves behind unsynced writes: the tail starts
//              with a crash-shaped record (a zero length field, a record
//              running past EOF, or a CRC mismatch over a record holding a
//              zero-filled block from a 512-byte boundary: a sector never
//              written) and no valid record after it carries the zxid that
//              follows the last good one (pages written back out of order
//              leave later records whose predecessors are missing); or the
//              tail starts with any other bad record and no valid record
//              follows at all. Recovery truncates it in the LAST segment only;
//   kCorrupt - otherwise: a damaged record followed by a valid one, the next
//              zxid found after a bad region, or a bad header: never a crash
//              artefact, always an error.
#pragma once

#include <cstdint>
#include <string>

#include "storage/limits.h"  // kMaxRecordBytes: the payload bound on read
#include "txn/txn.h"

namespace aviary::storage {

inline constexpr char kWalMagic[8] = {'A', 'V', 'I', 'A', 'R', 'Y', 'W', 'L'};
inline constexpr uint32_t kWalVersion = 1;
inline constexpr size_t kWalHeaderBytes = 32;
inline constexpr size_t kRecordHeaderBytes = 8;  // u32 length + u32 crc

// zxid `next` may follow `prev` in the log: the next counter, or the start
// of a later epoch (zxid >> 32).
inline bool ZxidFollows(int64_t prev, int64_t next) { return next == prev + 1 || (next >> 32) > (prev >> 32); }

struct SegmentRecord {
  int64_t offset = 0;   // of the record's length field
  uint32_t length = 0;  // payload bytes
  txn::Txn txn;
};

enum class SegmentEnd { kNone, kClean, kTorn, kCorrupt };

class SegmentReader {
 public:
  SegmentReader() = default;
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  // Maps the file and checks the header. A file shorter than the header
  // whose bytes are all zero opens fine with end() == kTorn at offset 0
  // (a crash while creating the segment). A ZooKeeper log ("ZKLG") or any
  // other magic fails with a clear message.
  bool Open(const std::string& path, std::string* error);
  // The next good record, or false at the end of data (see end()).
  bool Next(SegmentRecord* rec);
  // A reader of a range (LogRangeReader: DIFF) takes a zero length field as
  // the clean end without checking that only zeros follow: that check reads
  // the whole preallocated rest of the segment (64 MiB), and a range reader
  // checks zxid continuity across segments instead. Recovery keeps it.
  void set_trust_end_marker(bool v) { trust_end_marker_ = v; }

  int64_t header_zxid() const { return header_zxid_; }
  int64_t file_size() const { return static_cast<int64_t>(size_); }
  // After Next returned false:
  SegmentEnd end() const { return end_; }
  // Offset just past the last good record (where a truncation would cut).
  int64_t good_end() const { return good_end_; }
  // Offset of the bad record and why it is bad (kTorn / kCorrupt).
  int64_t bad_offset() const { return bad_offset_; }
  const std::string& bad_reason() const { return bad_reason_; }
  const std::string& path() const { return path_; }

 private:
  // *crash_shaped (optional): the failure looks like an unwritten part.
  bool ParseAt(size_t off, SegmentRecord* rec, std::string* why, bool* crash_shaped = nullptr) const;
  bool HasZeroSector(size_t from, size_t end) const;
  // A valid record starts somewhere in [from, EOF); with `next_only`, only
  // one whose zxid follows last_zxid_ counts.
  bool ValidRecordAfter(size_t from, bool next_only) const;
  void EndBad(size_t at, std::string why, bool crash_shaped);
  void Close();

  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
  int64_t header_zxid_ = 0;
  int64_t last_zxid_ = 0;  // of the last good record (header_zxid_ - 1 before the first)
  SegmentEnd end_ = SegmentEnd::kNone;
  int64_t good_end_ = 0;
  int64_t bad_offset_ = -1;
  std::string bad_reason_;
  bool trust_end_marker_ = false;
};

}  // namespace aviary::storage
