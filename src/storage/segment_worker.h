// The log roll's housekeeping, off the thread that makes the log durable
// (WalOptions::background_roll; docs/perf/storage.md, session 10).
//
// A roll used to do, on the storage thread and while no group could be
// written: ftruncate of the closed segment's preallocated tail (on ext4
// mounted with `discard` the freed ~50 MiB are discarded by the device,
// which once took 136 ms here, inside the ftruncate or at the journal
// commit that the next log fdatasync waits for), then open + fallocate of
// the new segment's first 64 MiB step, its header fdatasync and a
// directory fsync. With this worker the storage thread only renames a
// spare segment prepared ahead of time (created, fallocate()d, fsynced,
// directory fsynced: nothing of it is left for the roll's journal commit),
// writes the header and fsyncs; the closed segment's tail is cut later by
// the worker.
//
// Crash safety: the spare (version-2/log.spare) holds no data: every
// reader ignores the name (ParseSegmentName) and the worker replaces a
// stale one. A rename whose header never became durable leaves an
// all-zero last segment log.<zxid>: a torn header, which recovery treats
// as an empty segment and Wal::Open replaces. A trim that a crash
// prevents leaves zeros after the data, which read as the end of data.
//
// Threads: every method from the Wal's owner thread; the worker thread is
// private. Started lazily.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace aviary::storage {

inline constexpr const char* kSpareSegmentName = "log.spare";

class SegmentWorker {
 public:
  // vdir: the log's version-2 directory; spare_bytes: the spare's
  // fallocate()d size (the Wal's prealloc_bytes; <= 0: no spare);
  // delay_ms: how long after a roll the trim and the next spare start (so
  // that they stay clear of the snapshot the roll belongs to).
  SegmentWorker(std::string vdir, int64_t spare_bytes, int64_t delay_ms);
  ~SegmentWorker();  // Drain(true)
  SegmentWorker(const SegmentWorker&) = delete;
  SegmentWorker& operator=(const SegmentWorker&) = delete;

  // Takes `fd` (a closed segment, written up to `size`): its length is cut
  // to `size` (never grown) after the delay, then fd is closed.
  void Trim(int fd, std::string path, int64_t size);
  // After the delay: makes a spare if none is ready (a stale file of that
  // name is replaced).
  void PrepareSpare();
  // A ready spare (fd, open for writing, *bytes fallocate()d, all zeros),
  // now owned by the caller, who renames spare_path(); -1 if none is ready.
  int TakeSpare(int64_t* bytes);
  std::string spare_path() const { return vdir_ + "/" + kSpareSegmentName; }
  // Runs the pending trims at once and waits for them; a pending spare is
  // not made, and with drop_spare a ready one is removed.
  void Drain(bool drop_spare);

  // Tests.
  int64_t trims_done() const;
  bool spare_ready() const;

 private:
  struct TrimTask {
    int fd;
    std::string path;
    int64_t size;
    int64_t due_ms;
  };
  void Run();
  void StartLocked();
  void DoTrim(const TrimTask& t);
  bool MakeSpare();  // worker thread, without mu_

  const std::string vdir_;
  const int64_t spare_bytes_;
  const int64_t delay_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false;
  bool draining_ = false;
  bool busy_ = false;  // the worker runs a task outside mu_
  std::deque<TrimTask> trims_;
  int64_t spare_due_ms_ = -1;  // a spare is wanted from then on; -1: no
  int spare_fd_ = -1;          // a ready spare
  int64_t trims_done_ = 0;
};

}  // namespace aviary::storage
