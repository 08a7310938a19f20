#include "storage/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/check.h"
#include "base/log.h"
#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/layout.h"
#include "storage/txn_codec.h"
#include "storage/wal_reader.h"

namespace aviary::storage {
namespace {

constexpr size_t kFlushAt = 1 << 20;

int64_t ReadFailpoint() {
  const char* v = std::getenv("AVIARY_FAILPOINT");
  if (v == nullptr) return -1;
  const std::string s(v);
  if (s == "wal_sync_eio") return 0;
  const std::string prefix = "wal_sync_eio_after:";
  if (s.compare(0, prefix.size(), prefix) == 0) {
    char* end = nullptr;
    const long long n = std::strtoll(s.c_str() + prefix.size(), &end, 10);
    if (end != s.c_str() + prefix.size() && *end == '\0' && n >= 0) return n;
  }
  return -1;
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

Wal::Wal(WalOptions opts) : opts_(std::move(opts)), sync_budget_(ReadFailpoint()) {
  if (sync_budget_ >= 0) AV_LOG(kWarn, "AVIARY_FAILPOINT active: WAL Sync fails with EIO after {} syncs", sync_budget_);
}

Wal::~Wal() {
  if (fd_ >= 0) {
    std::string ignored;
    if (!poisoned_ && WriteBuffer(&ignored) && opts_.force_sync) fdatasync(fd_);
    close(fd_);
  }
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
  if (next_zxid - 1 > last_zxid_) last_zxid_ = next_zxid - 1;
  buf_ = SegmentHeader(next_zxid);
  if (!WriteBuffer(error)) return false;
  if (fdatasync(fd_) != 0) return Fail(ErrnoText("fdatasync", path_, errno), error);
  std::string dir_error;
  if (!FsyncDir(vdir, &dir_error)) return Fail(dir_error, error);
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
  if (len > kMaxRecordBytes) {
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
  if (!WriteBuffer(error)) return false;
  if (sync_budget_ == 0) return Fail(ErrnoText("fdatasync", path_, EIO) + " (AVIARY_FAILPOINT)", error);
  if (sync_budget_ > 0) --sync_budget_;
  if (opts_.force_sync && fdatasync(fd_) != 0) return Fail(ErrnoText("fdatasync", path_, errno), error);
  return true;
}

bool Wal::Roll(int64_t next_zxid, std::string* error) {
  if (!Close(error)) return false;
  return StartSegment(next_zxid, error);
}

bool Wal::Close(std::string* error) {
  if (fd_ < 0) return true;
  if (!Sync(error)) return false;
  if (close(fd_) != 0) {
    fd_ = -1;
    return Fail(ErrnoText("close", path_, errno), error);
  }
  fd_ = -1;
  return true;
}

}  // namespace aviary::storage
