#include "storage/segment_worker.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/clock.h"
#include "base/log.h"

namespace aviary::storage {
namespace {

int64_t NowMs() { return base::SystemClock::Get().SteadyMs(); }

constexpr int64_t kBlockBytes = 4096;
// Zero-ahead claims start at least this far past the log's published end,
// so that the log, writing on while a range is zeroed, rarely reaches it.
constexpr int64_t kZeroGuardBytes = 256 << 10;

int64_t RoundUp(int64_t n, int64_t to) { return (n + to - 1) / to * to; }

}  // namespace

SegmentWorker::SegmentWorker(int64_t delay_ms, int64_t zero_ahead_bytes, int64_t zero_step_bytes)
    : delay_ms_(std::max<int64_t>(0, delay_ms)),
      zero_ahead_(std::max<int64_t>(0, zero_ahead_bytes)),
      zero_step_(RoundUp(std::max<int64_t>(kBlockBytes, zero_step_bytes), kBlockBytes)) {}

SegmentWorker::~SegmentWorker() {
  Drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (zfd_ >= 0) close(zfd_);
  if (spare_on_) unlink(spare_path_.c_str());  // a poisoned log's owner never closed it
}

void SegmentWorker::StartThreadLocked() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "av-segment");  // not the creating storage thread's name
    Run();
  });
}

void SegmentWorker::Trim(int fd, std::string path, int64_t size) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    trims_.push_back(TrimTask{fd, std::move(path), size, NowMs() + delay_ms_});
    StartThreadLocked();
  }
  cv_.notify_all();
}

void SegmentWorker::StartZeroing(const std::string& path, int64_t log_end, int64_t limit, int64_t zeroed_to) {
  if (zero_ahead_ <= 0) return;
  std::unique_lock<std::mutex> lock(mu_);
  ReleaseZeroFdLocked();  // the previous segment's: no wait for a claim on it (the roll holds the log)
  // A descriptor of its own: an fdatasync on a dup() would take a writeback
  // error of the log's pages that the log's own fdatasync must report.
  zfd_ = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (zfd_ < 0) {
    AV_LOG(kWarn, "log zero-ahead: could not open {}: {}", path, std::strerror(errno));
    return;
  }
  zpath_ = path;
  zlog_end_ = log_end;
  zlimit_ = limit;
  zeroed_ = std::min(zeroed_to, limit);
  zfilling_ = false;
  StartThreadLocked();
  lock.unlock();
  cv_.notify_all();
}

void SegmentWorker::NoteLogEnd(int64_t end, int64_t limit) {
  std::unique_lock<std::mutex> lock(mu_);
  if (zfd_ < 0) return;
  zlog_end_ = std::max(zlog_end_, end);
  zlimit_ = std::max(zlimit_, limit);
  // The log caught up with a range of this segment being zeroed: it must not
  // write there before the zeros are (its data would be overwritten).
  cv_.wait(lock, [&] { return !zclaimed_ || zclaim_fd_ != zfd_ || end <= zclaim_from_; });
  int64_t from, to;
  if (!zfilling_ && zeroed_ < zlog_end_ + zero_ahead_ / 2 && NextZeroLocked(&from, &to)) {
    zfilling_ = true;  // one wake-up per catch-up, not one per group
    lock.unlock();
    cv_.notify_all();
  }
}

void SegmentWorker::StopZeroing(bool wait) {
  std::unique_lock<std::mutex> lock(mu_);
  if (wait) cv_.wait(lock, [this] { return !zclaimed_; });
  ReleaseZeroFdLocked();
}

void SegmentWorker::ReleaseZeroFdLocked() {
  // A claim in progress keeps its descriptor: the worker closes it after.
  if (zfd_ >= 0 && !(zclaimed_ && zclaim_fd_ == zfd_)) close(zfd_);
  zfd_ = -1;
  zfilling_ = false;
}

void SegmentWorker::EnableSpare(const std::string& path, int64_t head_bytes) {
  if (head_bytes <= 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_on_ && spare_path_ == path) return;
    spare_path_ = path;
    spare_head_ = RoundUp(head_bytes, kBlockBytes);
    spare_on_ = true;
    spare_ready_ = false;
    StartThreadLocked();
  }
  cv_.notify_all();
}

int64_t SegmentWorker::TakeSpare(const std::string& path) {
  int64_t head = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!spare_on_ || !spare_ready_ || spare_busy_) return 0;
    spare_ready_ = false;
    if (rename(spare_path_.c_str(), path.c_str()) == 0) {
      head = spare_head_;
    } else {
      AV_LOG(kWarn, "log: could not rename {} to {}: {}", spare_path_, path, std::strerror(errno));
      unlink(spare_path_.c_str());
    }
  }
  cv_.notify_all();  // the worker makes the next one
  return head;
}

void SegmentWorker::DisableSpare() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!spare_on_) return;
  cv_.wait(lock, [this] { return !spare_busy_; });
  spare_on_ = false;
  spare_ready_ = false;
  unlink(spare_path_.c_str());
}

int64_t SegmentWorker::spares_made() const {
  std::lock_guard<std::mutex> lock(mu_);
  return spares_made_;
}

bool SegmentWorker::MakeSpare(const std::string& path, int64_t head_bytes) const {
  const int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  // Written zeros, not fallocate(): a written block needs no conversion when
  // the log writes over it. The roll's fallocate() adds the rest.
  const bool ok = WriteZeros(fd, 0, head_bytes);
  const int err = errno;
  close(fd);
  errno = err;
  return ok;
}

int64_t SegmentWorker::zeroed_to() const {
  std::lock_guard<std::mutex> lock(mu_);
  return zeroed_;
}

int64_t SegmentWorker::zero_steps() const {
  std::lock_guard<std::mutex> lock(mu_);
  return zero_steps_;
}

bool SegmentWorker::NextZeroLocked(int64_t* from, int64_t* to) const {
  if (zfd_ < 0 || zclaimed_ || zero_ahead_ <= 0) return false;
  *from = std::max(zeroed_, RoundUp(zlog_end_, kBlockBytes) + kZeroGuardBytes);
  *to = std::min(zlimit_, *from + zero_step_);
  return *to > *from && *from < zlog_end_ + zero_ahead_;
}

bool SegmentWorker::WriteZeros(int fd, int64_t from, int64_t to) const {
  static const char kZeros[64 << 10] = {};
  while (from < to) {
    const size_t len = static_cast<size_t>(std::min<int64_t>(to - from, sizeof kZeros));
    const ssize_t n = pwrite(fd, kZeros, len, from);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    from += n;
  }
  return fdatasync(fd) == 0;
}

void SegmentWorker::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  if (!thread_.joinable()) return;  // no trim was ever queued
  draining_ = true;
  cv_.notify_all();
  cv_.wait(lock, [this] { return trims_.empty() && !busy_; });
  draining_ = false;
}

int64_t SegmentWorker::trims_done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trims_done_;
}

void SegmentWorker::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const int64_t now = NowMs();
    if (!trims_.empty() && (draining_ || stop_ || trims_.front().due_ms <= now)) {
      TrimTask t = std::move(trims_.front());
      trims_.pop_front();
      busy_ = true;
      lock.unlock();
      DoTrim(t);
      lock.lock();
      busy_ = false;
      ++trims_done_;
      cv_.notify_all();
      continue;
    }
    if (stop_) return;
    int64_t from, to;
    if (NextZeroLocked(&from, &to)) {
      zclaimed_ = true;
      zclaim_fd_ = zfd_;
      zclaim_from_ = from;
      zfilling_ = true;
      const int fd = zfd_;
      lock.unlock();
      const bool ok = WriteZeros(fd, from, to);
      const int err = errno;
      lock.lock();
      zclaimed_ = false;
      if (fd != zfd_) {
        close(fd);  // the segment was closed (or replaced) meanwhile
      } else if (ok) {
        zeroed_ = to;
        ++zero_steps_;
      } else {
        // The log goes on over fallocate()d blocks; its own writes report
        // any error of theirs.
        AV_LOG(kWarn, "log zero-ahead of {} stopped: {}", zpath_, std::strerror(err));
        close(zfd_);
        zfd_ = -1;
      }
      cv_.notify_all();
      continue;
    }
    zfilling_ = false;
    if (spare_on_ && !spare_ready_) {
      // The next segment's head, when nothing else is due.
      const std::string path = spare_path_;
      const int64_t head = spare_head_;
      spare_busy_ = true;
      lock.unlock();
      const bool ok = MakeSpare(path, head);
      const int err = errno;
      lock.lock();
      spare_busy_ = false;
      if (ok) {
        spare_ready_ = spare_on_ && spare_path_ == path;
        ++spares_made_;
      } else {
        // Rolls create their segments as before.
        AV_LOG(kWarn, "log: could not prepare the next segment's head {}: {}", path, std::strerror(err));
        unlink(path.c_str());
        spare_on_ = false;
      }
      cv_.notify_all();
      continue;
    }
    if (trims_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, trims_.front().due_ms - now)));
    }
  }
}

void SegmentWorker::DoTrim(const TrimTask& t) {
  // At once: on this disk one discard of ~56 MiB took 0-5 ms of device time
  // (40 of 41 tries), while eight pieces of 8 MiB took 3-44 ms in all.
  struct stat st;
  if (fstat(t.fd, &st) == 0 && static_cast<int64_t>(st.st_size) > t.size && ftruncate(t.fd, t.size) != 0) {
    AV_LOG(kWarn, "could not trim the preallocated tail of {}: {}", t.path, std::strerror(errno));
  }
  close(t.fd);
}

}  // namespace aviary::storage
