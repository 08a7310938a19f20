// The log roll's trim, off the thread that makes the log durable
// (WalOptions::background_roll; docs/perf/storage.md, session 10).
//
// A roll closes the segment and cuts its preallocated tail (up to 64 MiB of
// fallocate()d blocks) with ftruncate. On the storage thread, while the
// roll holds the log's queue, that ftruncate waited for the journal (and
// on ext4 mounted with `discard`, once for a 136 ms discard). The worker
// cuts the tail a while after the roll instead; the storage thread only
// hands over the descriptor.
//
// Crash safety: a crash before the cut leaves zeros after the segment's
// data, which read as the end of data (as a crash before the synchronous
// cut always could).
//
// Threads: every method from the Wal's owner thread; the worker thread is
// private and started at the first Trim.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace aviary::storage {

class SegmentWorker {
 public:
  // delay_ms: how long after a roll the tail is cut (clear of the snapshot
  // that asked for the roll).
  explicit SegmentWorker(int64_t delay_ms);
  ~SegmentWorker();  // Drain()
  SegmentWorker(const SegmentWorker&) = delete;
  SegmentWorker& operator=(const SegmentWorker&) = delete;

  // Takes `fd` (a closed segment, written up to `size`): its length is cut
  // to `size` (never grown) after the delay, then fd is closed.
  void Trim(int fd, std::string path, int64_t size);
  // Runs the pending trims at once and waits for them.
  void Drain();

  int64_t trims_done() const;  // tests

 private:
  struct TrimTask {
    int fd;
    std::string path;
    int64_t size;
    int64_t due_ms;
  };
  void Run();
  static void DoTrim(const TrimTask& t);

  const int64_t delay_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false;
  bool draining_ = false;
  bool busy_ = false;  // the worker runs a trim outside mu_
  std::deque<TrimTask> trims_;
  int64_t trims_done_ = 0;
};

}  // namespace aviary::storage
