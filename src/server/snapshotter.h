// Writes snapshots in the background and purges old files.
//
// Preferred path, Fork(): the core thread forks; the child process holds a
// copy-on-write image of the tree as of that instant, serialises and writes
// it on the other core (fsync, rename) and exits, so the server's threads
// never spend time on it. Reap() collects the child. The child dies with the
// server (PR_SET_PDEATHSIG). A child still running after child_timeout_ms is
// killed (Reap), a child that fails or is killed has its snapshot.<zxid>.tmp
// removed by the parent, and either way the next snapshot may start.
// Failpoints (AVIARY_FAILPOINT, read at each Fork, comma-separated):
// snapshot_child_hang makes the child stop after its first chunk (until
// killed); snapshot_child_die makes it exit abruptly there, leaving its
// temporary file.
// Fuzzy path (aviary.forkSnapshots=false, or fork failed): the core
// serialises the tree a slice at a time between request batches
// (storage::SnapshotBuilder with deferred sealing, a fuzzy snapshot) and
// hands over each slice's bytes (Write) and its full blocks' records
// (WriteBlock); this thread compresses and checksums the blocks
// (snapblock::Seal), writes everything to snapshot.<zxid>.tmp in the order
// posted, and on Finish fsyncs and renames it. Purges (autopurge.snapRetainCount) run on
// this thread too. Writes never wait for either path.
//
// Threads: every method from the core thread; files are touched only by the
// snapshot thread or the child process.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/snapshot.h"
#include "tree/data_tree.h"

namespace aviary::server {

// How the snapshot's bytes reach the disk that the log shares.
struct SnapshotIo {
  storage::SnapshotWriteback writeback;  // aviary.snapshotWritebackKiB, aviary.snapshotBoundedWriteback
  // aviary.snapshotIdleIo: the snapshot thread (or child) does its I/O in the
  // idle I/O class (ioprio_set), so the block layer's scheduler sends its
  // requests only when no other request of this disk is pending.
  bool idle_io_class = false;
  // aviary.snapshotNice: the snapshot thread's (or child's) nice value
  // (0-19; 0: the server's own), so that its compression yields the CPU
  // to the core and I/O threads when the cores are busy.
  int nice = 0;
};

class Snapshotter {
 public:
  Snapshotter(std::string snap_dir, std::string log_dir, int retain_count, int64_t child_timeout_ms = 600000,
              SnapshotIo io = {});
  ~Snapshotter();
  // The deadline of children forked from now on.
  void set_child_timeout_ms(int64_t ms) { child_timeout_ms_ = ms; }

  // Forks a child that writes the snapshot of `tree` at `zxid`. False if the
  // fork failed (then use Begin/Write/Finish).
  bool Fork(const tree::DataTree& tree, int64_t zxid, const std::vector<storage::SessionRecord>& sessions);
  // Collects a finished child (non-blocking) and logs its outcome; kills one
  // past its deadline. Call regularly (the core does, every pass).
  void Reap();

  void Begin(int64_t zxid);
  void Write(std::string chunk);
  // A block's raw records, sealed (zstd, CRC) on this thread.
  void WriteBlock(storage::RawBlock block);
  // Last slice: the trailer. The file becomes durable, then old ones go.
  void Finish(std::string trailer);
  void RequestPurge();

  bool Busy() const { return busy_.load() || child_ > 0; }  // a snapshot is being written
  size_t QueuedBytes() const { return queued_bytes_.load(); }

  // What the last forked snapshot that succeeded cost the server (also in
  // its log line): the fork's pause, the child's CPU, and the minor faults
  // the server's threads took while the child ran (copy-on-write).
  struct ChildCost {
    int64_t fork_us = 0;
    int64_t child_cpu_ms = 0;
    int64_t server_minor_faults = 0;
  };
  ChildCost last_child() const { return last_child_; }

 private:
  struct Job {
    enum Kind { kBegin, kWrite, kBlock, kFinish, kPurge } kind;
    int64_t zxid = 0;  // kBegin; the block's sequence number for kBlock
    std::string bytes;
  };
  void Post(Job job);
  void Run();
  std::string ChildTmpPath() const;

  std::string snap_dir_;
  std::string log_dir_;
  int retain_count_;
  SnapshotIo io_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::atomic<bool> busy_{false};
  std::atomic<size_t> queued_bytes_{0};
  int64_t child_timeout_ms_;
  int child_ = 0;  // pid of the snapshot child, 0 if none
  int64_t child_zxid_ = 0;
  int64_t child_started_ms_ = 0;
  int64_t child_server_faults_ = 0;  // the process's minor faults at the fork
  int64_t last_fork_us_ = 0;
  ChildCost last_child_;
  std::vector<int> killed_;  // killed children not yet reaped
};

}  // namespace aviary::server
