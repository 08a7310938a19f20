// Writes fuzzy snapshots in the background and purges old files.
//
// The core thread serialises the tree a slice at a time (storage::
// SnapshotBuilder) between request batches and hands each slice here; this
// thread writes it to snapshot.<zxid>.tmp, and on Finish fsyncs, renames and
// then purges (autopurge.snapRetainCount). Writes never wait for it.
//
// Threads: Begin / Write / Finish / RequestPurge / Busy / QueuedBytes from
// the core thread; files are touched only by the snapshot thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace aviary::server {

class Snapshotter {
 public:
  Snapshotter(std::string snap_dir, std::string log_dir, int retain_count);
  ~Snapshotter();

  void Begin(int64_t zxid);
  void Write(std::string chunk);
  // Last slice: the trailer. The file becomes durable, then old ones go.
  void Finish(std::string trailer);
  void RequestPurge();

  bool Busy() const { return busy_.load(); }  // a snapshot is being written
  size_t QueuedBytes() const { return queued_bytes_.load(); }
  int64_t last_snapshot_zxid() const { return last_zxid_.load(); }

 private:
  struct Job {
    enum Kind { kBegin, kWrite, kFinish, kPurge } kind;
    int64_t zxid = 0;
    std::string bytes;
  };
  void Post(Job job);
  void Run();

  std::string snap_dir_;
  std::string log_dir_;
  int retain_count_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::atomic<bool> busy_{false};
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<int64_t> last_zxid_{-1};
};

}  // namespace aviary::server
