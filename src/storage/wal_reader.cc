#include "storage/wal_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/layout.h"
#include "storage/txn_codec.h"

namespace aviary::storage {
namespace {

// Upper bound on payload bytes checksummed while looking for a valid record
// after a bad one; past it the data is conservatively called corrupt.
constexpr size_t kScanBudget = 256u << 20;
// A torn write leaves whole sectors unwritten (zero in a preallocated file).
constexpr size_t kSectorBytes = 512;
// Shorter zero runs at a record's end are ordinary field values.
constexpr size_t kMinZeroRunBytes = 64;

// Recovery checks the whole preallocated tail of the open segment (64 MiB)
// with this: 64 bytes per step (the compiler vectorises the OR), not one.
bool AllZero(const char* p, size_t n) {
  while (n >= 64) {
    uint64_t w[8];
    std::memcpy(w, p, sizeof w);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0) return false;
    p += 64;
    n -= 64;
  }
  return std::all_of(p, p + n, [](char c) { return c == 0; });
}

}  // namespace

SegmentReader::~SegmentReader() { Close(); }

void SegmentReader::Close() {
  if (data_ != nullptr) munmap(const_cast<char*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
}

bool SegmentReader::Open(const std::string& path, std::string* error) {
  Close();
  path_ = path;
  pos_ = 0;
  end_ = SegmentEnd::kNone;
  good_end_ = 0;
  bad_offset_ = -1;
  bad_reason_.clear();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = ErrnoText("open", path, errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *error = ErrnoText("stat", path, errno);
    close(fd);
    return false;
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* m = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      *error = ErrnoText("mmap", path, errno);
      close(fd);
      size_ = 0;
      return false;
    }
    madvise(m, size_, MADV_SEQUENTIAL);
    data_ = static_cast<const char*>(m);
  }
  close(fd);

  if (size_ >= 4 && std::memcmp(data_, "ZKLG", 4) == 0) {
    *error = path + " is a ZooKeeper transaction log, not an Aviary WAL segment (formats are incompatible)";
    return false;
  }
  const size_t head = std::min(size_, kWalHeaderBytes);
  if (size_ < kWalHeaderBytes || AllZero(data_, head)) {
    if (AllZero(data_, head) || std::memcmp(data_, kWalMagic, std::min(head, sizeof(kWalMagic))) == 0) {
      // Crash while the segment was being created: no record can be in it.
      end_ = SegmentEnd::kTorn;
      bad_offset_ = 0;
      bad_reason_ = "incomplete segment header";
      return true;
    }
    *error = path + ": not an Aviary WAL segment (bad magic at offset 0)";
    return false;
  }
  if (std::memcmp(data_, kWalMagic, sizeof(kWalMagic)) != 0) {
    *error = path + ": not an Aviary WAL segment (bad magic at offset 0)";
    return false;
  }
  const uint32_t version = bytes::GetU32(data_ + 8);
  if (version != kWalVersion) {
    *error = path + ": unsupported WAL format version " + std::to_string(version) + " at offset 8";
    return false;
  }
  if (Crc32c(0, data_, 28) != bytes::GetU32(data_ + 28)) {
    *error = path + ": segment header checksum mismatch at offset 28";
    return false;
  }
  header_zxid_ = static_cast<int64_t>(bytes::GetU64(data_ + 16));
  last_zxid_ = header_zxid_ - 1;
  pos_ = kWalHeaderBytes;
  good_end_ = static_cast<int64_t>(pos_);
  return true;
}

bool SegmentReader::HasZeroSector(size_t from, size_t end) const {
  for (size_t at = (from + kSectorBytes - 1) / kSectorBytes * kSectorBytes; at < end; at += kSectorBytes) {
    const size_t n = std::min(kSectorBytes, end - at);
    if (n >= kMinZeroRunBytes && AllZero(data_ + at, n)) return true;
    // The record's last bytes (under kMinZeroRunBytes of them) start a
    // sector that is zero to its end, past the record: an unwritten sector
    // (a written one would hold the next record's non-zero length there).
    // A crash that lost one log group while the next reached the disk
    // leaves exactly this where the lost part begins mid-record.
    const size_t whole = std::min(kSectorBytes, size_ - at);
    if (n < kMinZeroRunBytes && whole >= kMinZeroRunBytes && AllZero(data_ + at, whole)) return true;
  }
  return false;
}

bool SegmentReader::ParseAt(size_t off, SegmentRecord* rec, std::string* why, bool* crash_shaped) const {
  bool shaped_dummy = false;
  bool& shaped = crash_shaped != nullptr ? *crash_shaped : shaped_dummy;
  shaped = false;
  if (size_ - off < kRecordHeaderBytes) {
    *why = "incomplete record header";
    shaped = true;
    return false;
  }
  const uint32_t len = bytes::GetU32(data_ + off);
  if (len > kMaxRecordBytes) {
    *why = "record length " + std::to_string(len) + " exceeds the limit";
    return false;
  }
  if (len > size_ - off - kRecordHeaderBytes) {
    *why = "record length " + std::to_string(len) + " runs past the end of the file";
    shaped = true;
    return false;
  }
  uint32_t crc = Crc32c(0, data_ + off, 4);
  crc = Crc32c(crc, data_ + off + kRecordHeaderBytes, len);
  if (crc != bytes::GetU32(data_ + off + 4)) {
    *why = "record checksum mismatch";
    shaped = HasZeroSector(off, off + kRecordHeaderBytes + len);
    return false;
  }
  if (rec != nullptr) {
    if (!DecodeTxn(std::string_view(data_ + off + kRecordHeaderBytes, len), &rec->txn)) {
      *why = "record payload does not decode";
      return false;
    }
    rec->offset = static_cast<int64_t>(off);
    rec->length = len;
  }
  return true;
}

bool SegmentReader::ValidRecordAfter(size_t from, bool next_only) const {
  size_t budget = kScanBudget;
  std::string why;
  for (size_t off = from; off + kRecordHeaderBytes < size_; ++off) {
    const uint32_t len = bytes::GetU32(data_ + off);
    if (len == 0 || len > size_ - off - kRecordHeaderBytes) continue;
    if (len > budget) return true;  // give up: assume the worst
    budget -= len;
    SegmentRecord rec;
    if (ParseAt(off, &rec, &why) && (!next_only || ZxidFollows(last_zxid_, rec.txn.zxid))) return true;
  }
  return false;
}

void SegmentReader::EndBad(size_t at, std::string why, bool crash_shaped) {
  bad_offset_ = static_cast<int64_t>(at);
  bad_reason_ = std::move(why);
  end_ = ValidRecordAfter(at + 1, crash_shaped) ? SegmentEnd::kCorrupt : SegmentEnd::kTorn;
}

bool SegmentReader::Next(SegmentRecord* rec) {
  if (end_ != SegmentEnd::kNone) return false;
  if (pos_ >= size_) {
    end_ = SegmentEnd::kClean;
    return false;
  }
  const bool zero_len = size_ - pos_ >= 4 ? bytes::GetU32(data_ + pos_) == 0 : AllZero(data_ + pos_, size_ - pos_);
  if (zero_len) {
    if (trust_end_marker_ || AllZero(data_ + pos_, size_ - pos_)) {
      end_ = SegmentEnd::kClean;
      return false;
    }
    EndBad(pos_, "non-zero bytes after the end-of-data marker", true);
    return false;
  }
  std::string why;
  bool crash_shaped = false;
  if (!ParseAt(pos_, rec, &why, &crash_shaped)) {
    EndBad(pos_, std::move(why), crash_shaped);
    return false;
  }
  last_zxid_ = rec->txn.zxid;
  pos_ += kRecordHeaderBytes + rec->length;
  good_end_ = static_cast<int64_t>(pos_);
  return true;
}

}  // namespace aviary::storage
