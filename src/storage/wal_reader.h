// Reading WAL segments (format: docs/format/wal.md): header check and record
// iteration, for recovery and the dump tool. One SegmentReader reads one
// file (mmapped read-only); single-threaded; it never writes.
// Classification of where the data ends:
//   kClean   - a zero length field (or EOF) followed only by zeros/EOF;
//   kTorn    - a bad record (length past EOF, CRC mismatch, undecodable
//              payload) after which no valid record follows: zeros, EOF, or
//              bytes that frame no record with a good CRC (an unsynced tail
//              written out of order by the kernel). Recovery truncates it in
//              the LAST segment only;
//   kCorrupt - a bad record or a non-zero gap followed by a valid record, or
//              a bad header: never a crash artefact, always an error.
#pragma once

#include <cstdint>
#include <string>

#include "txn/txn.h"

namespace aviary::storage {

inline constexpr char kWalMagic[8] = {'A', 'V', 'I', 'A', 'R', 'Y', 'W', 'L'};
inline constexpr uint32_t kWalVersion = 1;
inline constexpr size_t kWalHeaderBytes = 32;
inline constexpr size_t kRecordHeaderBytes = 8;          // u32 length + u32 crc
inline constexpr uint32_t kMaxRecordBytes = 256u << 20;  // payload bound

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
  bool ParseAt(size_t off, SegmentRecord* rec, std::string* why) const;
  bool ValidRecordAfter(size_t from) const;
  void Close();

  std::string path_;
  const char* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
  int64_t header_zxid_ = 0;
  SegmentEnd end_ = SegmentEnd::kNone;
  int64_t good_end_ = 0;
  int64_t bad_offset_ = -1;
  std::string bad_reason_;
};

}  // namespace aviary::storage
