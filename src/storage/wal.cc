#include "storage/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/check.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/layout.h"
#include "storage/txn_codec.h"
#include "storage/wal_reader.h"
#include "storage/wal_truncate.h"

namespace aviary::storage {
namespace {

constexpr size_t kFlushAt = 1 << 20;

struct Failpoints {
  int64_t sync_budget = -1;  // -1 = off; otherwise Syncs allowed before EIO
  bool rollback_eio = false;
};

// AVIARY_FAILPOINT: comma-separated names (see wal.h); unknown ones ignored.
Failpoints ReadFailpoints() {
  Failpoints fp;
  const std::string prefix = "wal_sync_eio_after:";
  for (const std::string& s : base::ActiveFailpoints()) {
    if (s == "wal_sync_eio") fp.sync_budget = 0;
    if (s == "wal_rollback_eio") fp.rollback_eio = true;
    if (s.compare(0, prefix.size(), prefix) == 0) {
      char* end = nullptr;
      const long long n = std::strtoll(s.c_str() + prefix.size(), &end, 10);
      if (end != s.c_str() + prefix.size() && *end == '\0' && n >= 0) fp.sync_budget = n;
    }
  }
  return fp;
}

std::string SegmentHeader(int64_t zxid) {
  std::string h(kWalMagic, sizeof(kWalMagic));
  bytes::PutU32(&h, kWalVersion);
  bytes::PutU32(&h, 0);
  bytes::PutU64(&h, static_cast<uint64_t>(zxid));
  bytes::PutU32(&h, 0);
  bytes::PutU32(&h, Crc32c(0, h.data(), h.size()));
  return h;
}

}  // namespace

Wal::Wal(WalOptions opts) : opts_(std::move(opts)) {
  const Failpoints fp = ReadFailpoints();
  sync_budget_ = fp.sync_budget;
  rollback_eio_ = fp.rollback_eio;
  if (sync_budget_ >= 0) AV_LOG(kWarn, "AVIARY_FAILPOINT active: WAL Sync fails with EIO after {} syncs", sync_budget_);
  if (rollback_eio_) AV_LOG(kWarn, "AVIARY_FAILPOINT active: WAL Rollback fails");
}

// Bytes no Sync covered were never acknowledged: they are dropped, never
// written on the way out.
Wal::~Wal() {
  if (fd_ >= 0) close(fd_);
}

bool Wal::Fail(std::string msg, std::string* error) {
  poisoned_ = true;
  AV_LOG(kError, "WAL failure, refusing further writes: {}", msg);
  *error = std::move(msg);
  return false;
}

bool Wal::Open(int64_t next_zxid, std::string* error) {
  if (poisoned_) return Fail("WAL is poisoned by an earlier I/O error", error);
  if (fd_ >= 0) {
    *error = "WAL already open: " + path_;
    return false;
  }
  if (!EnsureDir(VersionDir(opts_.dir), error)) return false;
  return StartSegment(next_zxid, error);
}

bool Wal::StartSegment(int64_t next_zxid, std::string* error) {
  const std::string vdir = VersionDir(opts_.dir);
  const std::string path = vdir + "/" + SegmentName(next_zxid);
  if (access(path.c_str(), F_OK) == 0) {
    SegmentReader r;
    std::string why;
    SegmentRecord rec;
    if (!r.Open(path, &why)) {
      *error = "refusing to overwrite " + path + ": " + why;
      return false;
    }
    if (r.Next(&rec)) {
      *error = "refusing to overwrite " + path + ": it holds records (zxid " + std::to_string(rec.txn.zxid) + ")";
      return false;
    }
    AV_LOG(kWarn, "replacing empty WAL segment {}", path);
  }
  const int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(ErrnoText("open", path, errno), error);
  fd_ = fd;
  path_ = path;
  write_pos_ = 0;
  allocated_ = 0;
  txns_in_segment_ = 0;
  synced_pos_ = 0;
  synced_txns_ = 0;
  if (next_zxid - 1 > last_zxid_) last_zxid_ = next_zxid - 1;
  buf_ = SegmentHeader(next_zxid);
  if (!WriteBuffer(error)) return false;
  if (fdatasync(fd_) != 0) return Fail(ErrnoText("fdatasync", path_, errno), error);
  std::string dir_error;
  if (!FsyncDir(vdir, &dir_error)) return Fail(dir_error, error);
  MarkSynced();
  return true;
}

bool Wal::EnsureAllocated(int64_t end, std::string* error) {
  if (opts_.prealloc_bytes <= 0 || end <= allocated_) return true;
  const int64_t step = opts_.prealloc_bytes;
  const int64_t target = (end + step - 1) / step * step;
  const int rc = fallocate(fd_, 0, allocated_, target - allocated_);
  if (rc != 0) {
    const int err = errno;
    if (err != EOPNOTSUPP && err != ENOSYS) return Fail(ErrnoText("fallocate", path_, err), error);
    if (ftruncate(fd_, target) != 0) return Fail(ErrnoText("ftruncate", path_, errno), error);
  }
  allocated_ = target;
  return true;
}

bool Wal::WriteBuffer(std::string* error) {
  if (buf_.empty()) return true;
  if (!EnsureAllocated(write_pos_ + static_cast<int64_t>(buf_.size()), error)) return false;
  size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t n = pwrite(fd_, buf_.data() + done, buf_.size() - done, write_pos_ + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrnoText("write", path_, errno), error);
    }
    done += static_cast<size_t>(n);
  }
  write_pos_ += static_cast<int64_t>(buf_.size());
  buf_.clear();
  return true;
}

int Wal::WriteBufferDsync(std::string* error) {
  if (!EnsureAllocated(write_pos_ + static_cast<int64_t>(buf_.size()), error)) return -1;
  iovec v{buf_.data(), buf_.size()};
  ssize_t n;
  do {
    n = pwritev2(fd_, &v, 1, write_pos_, RWF_DSYNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
    dsync_writes_ = false;  // an older kernel: write + fdatasync from now on
    return 0;
  }
  if (n < 0) {
    Fail(ErrnoText("write", path_, errno), error);
    return -1;
  }
  write_pos_ += n;
  buf_.erase(0, static_cast<size_t>(n));
  ++dsync_writes_done_;
  return buf_.empty() ? 1 : 0;  // a short write: the rest is written and fdatasynced
}

bool Wal::Append(const txn::Txn& t, std::string* error) {
  if (poisoned_) return Fail("WAL is poisoned by an earlier I/O error", error);
  if (fd_ < 0) {
    *error = "WAL is not open";
    return false;
  }
  // The core hands out zxids once, in order, with no gaps; recovery refuses
  // a log that skips one. Anything else here means the pipeline is broken.
  AV_CHECK(t.zxid == last_zxid_ + 1 || (t.zxid >> 32) > (last_zxid_ >> 32),
           "WAL append out of order: zxid {:#x} after {:#x} in {}", t.zxid, last_zxid_, path_);
  const size_t at = buf_.size();
  buf_.append(kRecordHeaderBytes, '\0');
  EncodeTxn(t, &buf_);
  const size_t len = buf_.size() - at - kRecordHeaderBytes;
  if (len > std::min(opts_.max_record_bytes, kMaxRecordBytes)) {
    buf_.resize(at);
    *error = "txn too large for the WAL: " + std::to_string(len) + " bytes";
    return false;
  }
  bytes::SetU32(&buf_[at], static_cast<uint32_t>(len));
  uint32_t crc = Crc32c(0, &buf_[at], 4);
  crc = Crc32c(crc, &buf_[at + kRecordHeaderBytes], len);
  bytes::SetU32(&buf_[at + 4], crc);
  last_zxid_ = t.zxid;
  ++txns_in_segment_;
  if (buf_.size() >= kFlushAt) return WriteBuffer(error);
  return true;
}

bool Wal::Sync(std::string* error) {
  if (poisoned_) return Fail("WAL is poisoned by an earlier I/O error", error);
  if (fd_ < 0) {
    *error = "WAL is not open";
    return false;
  }
  if (sync_budget_ < 0 && opts_.force_sync && dsync_writes_ && write_pos_ == synced_pos_ && !buf_.empty()) {
    const int written = WriteBufferDsync(error);
    if (written < 0) return false;
    if (written > 0) {
      MarkSynced();
      return true;
    }
  }
  if (!WriteBuffer(error)) return false;
  if (sync_budget_ == 0) return Fail(ErrnoText("fdatasync", path_, EIO) + " (AVIARY_FAILPOINT)", error);
  if (sync_budget_ > 0) --sync_budget_;
  // Nothing written since the last successful Sync (a roll right after the
  // group commit's fsync): it is all durable already.
  if (write_pos_ == synced_pos_ && last_zxid_ == synced_zxid_) return true;
  if (opts_.force_sync && fdatasync(fd_) != 0) return Fail(ErrnoText("fdatasync", path_, errno), error);
  MarkSynced();
  return true;
}

void Wal::MarkSynced() {
  synced_pos_ = write_pos_;
  synced_zxid_ = last_zxid_;
  synced_txns_ = txns_in_segment_;
}

bool Wal::Rollback(std::string* error) {
  poisoned_ = true;
  buf_.clear();
  buf_.shrink_to_fit();
  last_zxid_ = synced_zxid_;
  txns_in_segment_ = synced_txns_;
  if (fd_ < 0) return true;  // no segment open: nothing was written since
  if (rollback_eio_) {
    *error = ErrnoText("ftruncate", path_, EIO) + " (AVIARY_FAILPOINT)";
    return false;
  }
  if (ftruncate(fd_, synced_pos_) != 0) {
    *error = ErrnoText("ftruncate", path_, errno);
    return false;
  }
  if (fsync(fd_) != 0) {
    *error = ErrnoText("fsync", path_, errno);
    return false;
  }
  write_pos_ = allocated_ = synced_pos_;
  AV_LOG(kWarn, "WAL rolled back to offset {} of {} (last durable zxid {:#x})", synced_pos_, path_, synced_zxid_);
  return true;
}

bool Wal::TruncateAfter(int64_t zxid, const std::string& snap_dir, std::string* error) {
  if (poisoned_) return Fail("WAL is poisoned by an earlier I/O error", error);
  const bool was_open = fd_ >= 0;
  if (!Close(error)) return false;
  TruncateReport report;
  std::string why;
  if (!TruncateLogAfter(snap_dir, opts_.dir, zxid, &report, &why)) {
    // Nothing changed when the plan failed; otherwise recovery completes it.
    if (access((VersionDir(opts_.dir) + "/" + kTruncateMarkerName).c_str(), F_OK) == 0) return Fail(why, error);
    *error = why;
    std::string reopen_error;
    if (was_open && !StartSegment(last_zxid_ + 1, &reopen_error)) *error += "; " + reopen_error;
    return false;
  }
  last_zxid_ = synced_zxid_ = zxid;
  txns_in_segment_ = synced_txns_ = 0;
  if (!was_open) return true;
  return StartSegment(zxid + 1, error);
}

bool Wal::Roll(int64_t next_zxid, std::string* error) {
  if (!Close(error)) return false;
  return StartSegment(next_zxid, error);
}

bool Wal::MaybeRoll(std::string* error) {
  if (!roll_requested_.load() || fd_ < 0 || txns_in_segment_ == 0) return true;
  roll_requested_.store(false);
  return Roll(last_zxid_ + 1, error);
}

bool Wal::Close(std::string* error) {
  if (fd_ < 0) return true;
  if (!Sync(error)) return false;
  // A closed segment gives its preallocated zero tail back (up to
  // prealloc_bytes of real blocks per segment otherwise: a segment per
  // snapshot). A crash before this lands leaves the zeros, which read as
  // the end of data just the same; a failure only costs space.
  if (allocated_ > write_pos_ && ftruncate(fd_, write_pos_) != 0) {
    AV_LOG(kWarn, "could not trim the preallocated tail of {}: {}", path_, std::strerror(errno));
  }
  if (close(fd_) != 0) {
    fd_ = -1;
    return Fail(ErrnoText("close", path_, errno), error);
  }
  fd_ = -1;
  return true;
}

}  // namespace aviary::storage
