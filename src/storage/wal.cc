#include "storage/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "base/check.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/layout.h"
#include "storage/segment_worker.h"
#include "storage/txn_codec.h"
#include "storage/wal_reader.h"
#include "storage/wal_truncate.h"

namespace aviary::storage {
namespace {

constexpr size_t kFlushAt = 1 << 20;

struct Failpoints {
  int64_t sync_budget = -1;  // -1 = off; otherwise Syncs allowed before EIO
  int64_t fail_group_at = 0;
  bool rollback_eio = false;
};

// AVIARY_FAILPOINT: comma-separated names (see wal.h); unknown ones ignored.
Failpoints ReadFailpoints() {
  Failpoints fp;
  const std::string prefix = "wal_sync_eio_after:";
  const std::string group_prefix = "wal_group_eio_at:";
  for (const std::string& s : base::ActiveFailpoints()) {
    if (s.compare(0, group_prefix.size(), group_prefix) == 0) {
      fp.fail_group_at = std::strtoll(s.c_str() + group_prefix.size(), nullptr, 10);
    }
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
  fail_group_at_ = fp.fail_group_at;
  rollback_eio_ = fp.rollback_eio;
  if (fp.sync_budget >= 0) {
    AV_LOG(kWarn, "AVIARY_FAILPOINT active: WAL Sync fails with EIO after {} syncs", fp.sync_budget);
  }
  if (fail_group_at_ > 0) AV_LOG(kWarn, "AVIARY_FAILPOINT active: the WAL's group {} fails with EIO", fail_group_at_);
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
  if (opts_.zero_fill_bytes > 0) opts_.zero_ahead_bytes = 0;  // zero-fill writes its own zeros
  if ((opts_.background_roll || opts_.zero_ahead_bytes > 0) && worker_ == nullptr) {
    worker_ = std::make_unique<SegmentWorker>(opts_.background_delay_ms, opts_.zero_ahead_bytes, opts_.zero_step_bytes);
  }
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
  // A spare whose head is written zeros (zero-ahead), renamed over `path`;
  // otherwise a new file. Either way the header's write and fdatasync below
  // make it a segment (and the roll's fallocate() the rest of its blocks).
  const bool spare =
      opts_.zero_ahead_bytes > 0 && opts_.next_head_bytes > 0 && opts_.prealloc_bytes > 0 && worker_ != nullptr;
  const int64_t head = spare ? worker_->TakeSpare(path) : 0;
  const int fd = head > 0 ? open(path.c_str(), O_WRONLY | O_CLOEXEC)
                          : open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
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
  group_end_ = write_pos_;
  if (fdatasync(fd_) != 0) return Fail(ErrnoText("fdatasync", path_, errno), error);
  std::string dir_error;
  if (!FsyncDir(vdir, &dir_error)) return Fail(dir_error, error);
  MarkSynced();
  if (opts_.zero_ahead_bytes > 0 && worker_ != nullptr && allocated_ > write_pos_) {
    worker_->StartZeroing(path_, write_pos_, allocated_, head);
    zeroing_ = true;
  }
  if (spare) {
    worker_->EnableSpare(vdir + "/" + SegmentWorker::kSpareName, std::min(opts_.next_head_bytes, opts_.prealloc_bytes));
  }
  return true;
}

void Wal::StopZeroing(bool wait) {
  if (!zeroing_) return;
  worker_->StopZeroing(wait);
  zeroing_ = false;
}

int64_t Wal::ZeroTail() const {
  const int64_t end = write_pos_ + static_cast<int64_t>(buf_.size());
  if (opts_.zero_fill_bytes <= 0 || end <= allocated_) return 0;
  const int64_t step = opts_.zero_fill_bytes;
  return (end + step - 1) / step * step - end;
}

bool Wal::WriteZeros(int64_t at, int64_t n, std::string* error) {
  static const char kZeros[64 << 10] = {};
  while (n > 0) {
    const size_t len = static_cast<size_t>(std::min<int64_t>(n, sizeof kZeros));
    const ssize_t w = pwrite(fd_, kZeros, len, at);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrnoText("write", path_, errno), error);
    }
    at += w;
    n -= w;
  }
  return true;
}

bool Wal::EnsureAllocated(int64_t end, std::string* error) {
  if (opts_.zero_fill_bytes > 0) return true;  // zero-fill mode: the writes extend the file (ZeroTail)
  if (opts_.prealloc_bytes > 0 && end > allocated_) {
    const int64_t step = opts_.prealloc_bytes;
    const int64_t target = (end + step - 1) / step * step;
    const int rc = fallocate(fd_, 0, allocated_, target - allocated_);
    if (rc != 0) {
      const int err = errno;
      if (err != EOPNOTSUPP && err != ENOSYS) return Fail(ErrnoText("fallocate", path_, err), error);
      if (ftruncate(fd_, target) != 0) return Fail(ErrnoText("ftruncate", path_, errno), error);
    }
    allocated_ = target;
  }
  if (zeroing_) worker_->NoteLogEnd(end, allocated_);
  return true;
}

bool Wal::WriteBuffer(std::string* error) {
  if (buf_.empty()) return true;
  if (!EnsureAllocated(write_pos_ + static_cast<int64_t>(buf_.size()), error)) return false;
  const int64_t zeros = ZeroTail();
  if (zeros > 0) {
    const int64_t at = write_pos_ + static_cast<int64_t>(buf_.size());
    if (!WriteZeros(at, zeros, error)) return false;
    allocated_ = at + zeros;
  }
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
  // Zero-fill mode: the zeros of a new step go out in the same call.
  static const char kZeros[64 << 10] = {};
  const int64_t zeros = ZeroTail();
  constexpr size_t kMaxIov = 64;
  iovec v[kMaxIov];
  size_t cnt = 0;
  v[cnt++] = iovec{buf_.data(), buf_.size()};
  int64_t zeros_queued = 0;
  while (zeros_queued < zeros && cnt < kMaxIov) {
    const size_t len = static_cast<size_t>(std::min<int64_t>(zeros - zeros_queued, sizeof kZeros));
    v[cnt++] = iovec{const_cast<char*>(kZeros), len};
    zeros_queued += static_cast<int64_t>(len);
  }
  if (zeros_queued < zeros) {  // a step over 4 MiB: its zeros first, then the data with RWF_DSYNC
    const int64_t at = write_pos_ + static_cast<int64_t>(buf_.size());
    if (!WriteZeros(at, zeros, error)) return -1;
    allocated_ = at + zeros;
    cnt = 1;
    zeros_queued = 0;
  }
  ssize_t n;
  do {
    n = pwritev2(fd_, v, static_cast<int>(cnt), write_pos_, RWF_DSYNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
    dsync_writes_ = false;  // an older kernel: write + fdatasync from now on
    return 0;
  }
  if (n < 0) {
    Fail(ErrnoText("write", path_, errno), error);
    return -1;
  }
  ++dsync_writes_done_;
  const int64_t data = std::min<int64_t>(n, static_cast<int64_t>(buf_.size()));
  if (zeros_queued > 0) {  // written bytes past the data are zeros now
    allocated_ = std::max(allocated_, write_pos_ + n);
    if (n < static_cast<int64_t>(buf_.size()) + zeros_queued) {
      // A short write: the zeros (if any are missing) and the rest of the
      // data are written again by WriteBuffer, and fdatasynced.
      write_pos_ += data;
      buf_.erase(0, static_cast<size_t>(data));
      return 0;
    }
  }
  write_pos_ += data;
  buf_.erase(0, static_cast<size_t>(data));
  return buf_.empty() && (zeros_queued == 0 || allocated_ >= write_pos_) ? 1 : 0;  // short: finished by the caller
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
  if (sync_budget_.load() < 0 && opts_.force_sync && dsync_writes_.load(std::memory_order_relaxed) &&
      write_pos_ == synced_pos_ && !buf_.empty()) {
    const int written = WriteBufferDsync(error);
    if (written < 0) return false;
    if (written > 0) {
      MarkSynced();
      return true;
    }
  }
  if (!WriteBuffer(error)) return false;
  if (!TakeSyncBudget()) return Fail(ErrnoText("fdatasync", path_, EIO) + " (AVIARY_FAILPOINT)", error);
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
  group_end_ = write_pos_;
}

bool Wal::TakeSyncBudget() {
  int64_t b = sync_budget_.load();
  while (b > 0 && !sync_budget_.compare_exchange_weak(b, b - 1)) {
  }
  return b != 0;
}

bool Wal::TakeGroup(Group* g, std::string* error) {
  if (poisoned_) return Fail("WAL is poisoned by an earlier I/O error", error);
  if (fd_ < 0) {
    *error = "WAL is not open";
    return false;
  }
  AV_CHECK(opts_.zero_fill_bytes <= 0, "WAL groups in flight need fallocate()d segments, not zero-fill");
  const int64_t end = write_pos_ + static_cast<int64_t>(buf_.size());
  if (!EnsureAllocated(end, error)) return false;
  g->offset = write_pos_;
  g->end = end;
  g->sync_file = write_pos_ != group_end_;
  g->bytes.swap(buf_);  // buf_ keeps the capacity of the group the caller recycles
  buf_.clear();
  g->last_zxid = last_zxid_;
  g->txns_in_segment = txns_in_segment_;
  g->seq = ++groups_taken_;
  write_pos_ = end;
  group_end_ = end;
  return true;
}

bool Wal::WriteGroup(const Group& g, std::string* error) {
  if (!TakeSyncBudget() || g.seq == fail_group_at_) {
    *error = ErrnoText("fdatasync", path_, EIO) + " (AVIARY_FAILPOINT)";
    AV_LOG(kError, "WAL failure, refusing further writes: {}", *error);
    return false;
  }
  const char* p = g.bytes.data();
  size_t left = g.bytes.size();
  int64_t at = g.offset;
  bool dsync = opts_.force_sync && !g.sync_file && dsync_writes_.load(std::memory_order_relaxed);
  bool durable = !opts_.force_sync;
  while (left > 0) {
    ssize_t n;
    if (dsync) {
      iovec v{const_cast<char*>(p), left};
      n = pwritev2(fd_, &v, 1, at, RWF_DSYNC);
      if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
        dsync_writes_.store(false);  // an older kernel: write + fdatasync from now on
        dsync = false;
        continue;
      }
    } else {
      n = pwrite(fd_, p, left, at);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = ErrnoText("write", path_, errno);
      AV_LOG(kError, "WAL failure, refusing further writes: {}", *error);
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
    at += n;
  }
  if (dsync && !g.bytes.empty()) {
    dsync_writes_done_.fetch_add(1, std::memory_order_relaxed);
    durable = true;
  }
  if (!durable && fdatasync(fd_) != 0) {
    *error = ErrnoText("fdatasync", path_, errno);
    AV_LOG(kError, "WAL failure, refusing further writes: {}", *error);
    return false;
  }
  return true;
}

void Wal::GroupDurable(const Group& g) {
  synced_pos_ = g.end;
  synced_zxid_ = g.last_zxid;
  synced_txns_ = g.txns_in_segment;
}

bool Wal::Rollback(std::string* error) {
  poisoned_ = true;
  buf_.clear();
  buf_.shrink_to_fit();
  last_zxid_ = synced_zxid_;
  txns_in_segment_ = synced_txns_;
  if (fd_ < 0) return true;  // no segment open: nothing was written since
  StopZeroing(/*wait=*/true);
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
  write_pos_ = allocated_ = group_end_ = synced_pos_;
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
  const auto start = std::chrono::steady_clock::now();
  if (!CloseSegment(/*defer_trim=*/true, error)) return false;
  if (!StartSegment(next_zxid, error)) return false;
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  AV_LOG(kInfo, "log rolled to {} in {} us", path_, us);
  return true;
}

bool Wal::MaybeRoll(std::string* error) {
  if (!roll_requested_.load() || fd_ < 0 || txns_in_segment_ == 0) return true;
  roll_requested_.store(false);
  return Roll(last_zxid_ + 1, error);
}

bool Wal::Close(std::string* error) {
  // TruncateAfter rewrites closed segments next: no trim may still run.
  if (worker_ != nullptr) {
    worker_->Drain();
    worker_->DisableSpare();  // a TRUNC's StartSegment makes a new one
  }
  return CloseSegment(/*defer_trim=*/false, error);
}

bool Wal::CloseSegment(bool defer_trim, std::string* error) {
  if (fd_ < 0) return true;
  if (!Sync(error)) return false;
  // The deferred trim runs on the worker thread after any zeroing of it: the
  // roll need not wait for that.
  const bool deferred = defer_trim && opts_.background_roll && worker_ != nullptr && allocated_ > write_pos_;
  StopZeroing(/*wait=*/!deferred);
  if (deferred) {
    // The worker cuts the tail later and closes the descriptor: the roll
    // does not wait for the freed blocks (docs/perf/storage.md, session 10).
    worker_->Trim(fd_, path_, write_pos_);
    fd_ = -1;
    return true;
  }
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
