// QuorumLog: the storage thread of an ensemble member (QuorumPeer). It runs
// the write-ahead log's appends and fsyncs the consensus thread queues, in
// queue order, so that the consensus thread never blocks on the disk: while
// one fsync runs, the next appends accumulate, and the following fsync
// covers all of them (group commit, as DurableCommitter standalone).
//
// Owns: the queue and the thread. The Wal itself belongs to QuorumPeer; this
// class uses it only while it runs queued ops. Between Drain() returning and
// the next Append / Fsync / Roll, the thread is idle and the caller may use
// the Wal directly (TRUNC, SNAP install, DIFF reads the files: they drain
// first, so they stay ordered after every queued append).
//
// Threads: Append / Fsync / Roll / Drain / TakeSynced / Stop from the
// consensus thread (one producer); the ops and `on_synced` run on the
// storage thread. Fsync tokens come back from TakeSynced in queue order,
// each only after an fsync that followed every append queued before it.
//
// Failure: a write or fsync error stops the process (QuorumPeer's rule: a
// replica whose log failed restarts from its files), so nothing is ever
// acknowledged that the log does not hold.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/wal.h"
#include "txn/txn.h"

namespace aviary::server {

class QuorumLog {
 public:
  // `on_synced` runs on the storage thread after each fsync that completed
  // tokens (QuorumPeer wakes its consensus thread there).
  QuorumLog(storage::Wal* wal, std::function<void()> on_synced);
  ~QuorumLog();
  QuorumLog(const QuorumLog&) = delete;
  QuorumLog& operator=(const QuorumLog&) = delete;

  void Start();
  // Runs what is queued, then joins.
  void Stop();

  // Queued without waking the thread: an Fsync, Roll or Drain follows.
  // The txn is not copied: the caller keeps *t alive and unchanged until
  // appended() reaches the number returned (every Append gets the next one,
  // from 1), or Drain returned.
  uint64_t Append(const txn::Txn* t);
  // How many Appends the thread has written to the log (its buffer) so far:
  // their txns are no longer read (any thread; acquire).
  uint64_t appended() const { return appended_.load(std::memory_order_acquire); }
  // Reported through TakeSynced once an fsync covers every earlier Append.
  void Fsync(uint64_t token);
  // Log roll (ZooKeeper rolls at each snapshot): fsyncs what precedes, then
  // starts the segment log.<next_zxid> (unless the current one is empty).
  void Roll(int64_t next_zxid);
  // Returns once everything queued is written and fsynced and the thread is
  // idle (see the header comment).
  void Drain();
  void TakeSynced(std::vector<uint64_t>* tokens);

  // Counters (any thread): fsyncs done and txns appended.
  int64_t fsyncs() const;
  int64_t appends() const;

 private:
  struct Op {
    enum class Kind { kAppend, kFsync, kRoll };
    Kind kind = Kind::kAppend;
    const txn::Txn* txn = nullptr;  // kAppend (the caller's, see Append)
    uint64_t seq = 0;               // kAppend: its number
    uint64_t token = 0;             // kFsync (0: drain, not reported)
    int64_t zxid = 0;               // kRoll
  };
  void Push(Op op);
  void Run();
  void RunOp(Op& op, bool* unsynced, std::vector<uint64_t>* tokens);
  void SyncNow(bool* unsynced, std::vector<uint64_t>* tokens);

  storage::Wal* wal_;
  std::function<void()> on_synced_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // work queued / stop
  std::condition_variable idle_cv_;  // queue empty and thread idle
  std::vector<Op> queue_;
  std::vector<uint64_t> synced_;  // tokens done, not yet taken
  bool due_ = false;              // an op other than an append is queued: the thread runs the queue
  bool busy_ = false;
  bool stop_ = false;
  int64_t fsyncs_ = 0;
  uint64_t queued_appends_ = 0;        // producer (consensus thread) only
  std::atomic<uint64_t> appended_{0};  // Appends written (the storage thread stores)
};

}  // namespace aviary::server
