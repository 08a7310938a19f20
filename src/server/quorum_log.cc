// QuorumLog (quorum_log.h): the ensemble member's storage thread.
#include "server/quorum_log.h"

#include <pthread.h>

#include <chrono>
#include <cstdlib>

#include "base/log.h"
#include "metrics/server_metrics.h"

namespace aviary::server {

namespace {

[[noreturn]] void LogFailed(const std::string& what, const std::string& error) {
  AV_LOG(kError, "ensemble: log {}: {}; stopping (restart the server to recover from its files)", what, error);
  std::_Exit(3);
}

}  // namespace

QuorumLog::QuorumLog(storage::Wal* wal, std::function<void()> on_synced)
    : wal_(wal), on_synced_(std::move(on_synced)) {}

QuorumLog::~QuorumLog() { Stop(); }

void QuorumLog::Start() {
  if (!thread_.joinable())
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "av-quorum-log");  // for top -H / perf
      Run();
    });
}

void QuorumLog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// An append does not wake the thread: the fsync (or roll, or drain) that
// follows it does, so that the thread takes the whole group at once instead
// of starting an fsync on its first append (the node asks for an fsync at
// the end of every Ready that appended: zab::Node::TakeReady).
void QuorumLog::Push(Op op) {
  const bool wake = op.kind != Op::Kind::kAppend;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(op));
    if (wake) due_ = true;
  }
  if (wake) cv_.notify_one();  // no system call when the thread is not waiting
}

uint64_t QuorumLog::Append(const txn::Txn* t) {
  Op op;
  op.kind = Op::Kind::kAppend;
  op.txn = t;
  op.seq = ++queued_appends_;
  Push(op);
  return op.seq;
}

void QuorumLog::Fsync(uint64_t token) {
  Op op;
  op.kind = Op::Kind::kFsync;
  op.token = token;
  Push(std::move(op));
}

void QuorumLog::Roll(int64_t next_zxid) {
  Op op;
  op.kind = Op::Kind::kRoll;
  op.zxid = next_zxid;
  Push(std::move(op));
}

void QuorumLog::Drain() {
  Fsync(0);
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return (queue_.empty() && !busy_) || !thread_.joinable(); });
}

void QuorumLog::TakeSynced(std::vector<uint64_t>* tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  tokens->insert(tokens->end(), synced_.begin(), synced_.end());
  synced_.clear();
}

int64_t QuorumLog::fsyncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fsyncs_;
}

int64_t QuorumLog::appends() const { return static_cast<int64_t>(appended()); }

void QuorumLog::Run() {
  std::vector<Op> batch;
  std::vector<uint64_t> tokens;
  bool unsynced = false;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (queue_.empty()) {
        busy_ = false;
        idle_cv_.notify_all();
      }
      cv_.wait(lock, [this] { return stop_ || due_; });
      if (queue_.empty()) return;  // stopping, nothing left
      batch.swap(queue_);
      due_ = false;
      busy_ = true;
    }
    for (Op& op : batch) RunOp(op, &unsynced, &tokens);
    batch.clear();
    // Group commit: one fsync for every append of this batch; appends queued
    // meanwhile wait for the next pass.
    if (!tokens.empty()) SyncNow(&unsynced, &tokens);
  }
}

void QuorumLog::RunOp(Op& op, bool* unsynced, std::vector<uint64_t>* tokens) {
  std::string error;
  switch (op.kind) {
    case Op::Kind::kAppend:
      if (!wal_->Append(*op.txn, &error)) LogFailed("append", error);
      *unsynced = true;
      appended_.store(op.seq, std::memory_order_release);  // the caller may move or free the txn now
      return;
    case Op::Kind::kFsync:
      tokens->push_back(op.token);
      return;
    case Op::Kind::kRoll:
      SyncNow(unsynced, tokens);
      if (wal_->txns_in_segment() > 0 && !wal_->Roll(op.zxid, &error)) LogFailed("roll", error);
      return;
  }
}

void QuorumLog::SyncNow(bool* unsynced, std::vector<uint64_t>* tokens) {
  std::string error;
  const bool sync = *unsynced;
  if (sync) {
    const auto sync_start = std::chrono::steady_clock::now();
    if (!wal_->Sync(&error)) LogFailed("fsync", error);
    metrics::Server().fsync_time.Add(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sync_start).count());
    *unsynced = false;
  }
  // A roll the snapshot code asked for (Wal::RequestRoll, any thread) starts
  // here, after the fsync and between appends.
  if (!wal_->MaybeRoll(&error)) LogFailed("roll", error);
  bool report = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fsyncs_ += sync ? 1 : 0;
    for (uint64_t t : *tokens) {
      if (t == 0) continue;  // Drain's
      synced_.push_back(t);
      report = true;
    }
  }
  tokens->clear();
  if (report && on_synced_) on_synced_();
}

}  // namespace aviary::server
