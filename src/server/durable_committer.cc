#include "server/durable_committer.h"

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "base/thread_slice.h"
#include "metrics/server_metrics.h"
#include "server/latency_trace.h"

namespace aviary::server {

DurableCommitter::DurableCommitter(storage::WalOptions opts, std::function<void()> wake)
    : wal_(std::move(opts)), wake_(std::move(wake)) {}

DurableCommitter::~DurableCommitter() { Stop(); }

bool DurableCommitter::Start(int64_t next_zxid, std::string* error) {
  if (!wal_.Open(next_zxid, error)) return false;
  thread_ = std::thread([this] { Run(); });
  return true;
}

void DurableCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void DurableCommitter::Propose(txn::Txn txn) {
  ++pass_proposals_;
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_.load()) return;  // never committed, never acknowledged
  queue_.push_back(Item{false, 0, std::move(txn), trace::On() ? trace::NowUs() : 0});
}

bool DurableCommitter::EndOfPass(bool core_idle) {
  pass_proposals_ = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.empty()) return false;
    if (!core_idle || busy_ || !commit_on_log_ || failed_.load()) {
      lock.unlock();
      cv_.notify_one();  // the storage thread takes it (after its group)
      return false;
    }
    busy_ = true;
    inline_batch_.swap(queue_);
  }
  WriteGroup(inline_batch_, /*wake=*/false);
  bool more = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy_ = false;
    more = !queue_.empty();
  }
  if (more) cv_.notify_one();
  return true;
}

void DurableCommitter::RequestRoll(int64_t next_zxid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Item{true, next_zxid, {}});
  }
  cv_.notify_one();
}

void DurableCommitter::TakeCommitted(std::vector<txn::Txn>* out) {
  // Set under mu_ before the wake (or by this thread's own inline group),
  // and before failed_ (ReadOnly, which the core reads first).
  if (!ready_.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(mu_);
  ready_.store(false, std::memory_order_relaxed);
  if (trace::On()) {
    const int64_t woke = woke_at_us_.exchange(0, std::memory_order_relaxed);
    if (woke != 0) trace::Record(trace::kCommitWake, trace::NowUs() - woke);
  }
  if (out->empty()) {
    out->swap(committed_);  // the caller's emptied vector comes back for the next groups
    return;
  }
  for (auto& t : committed_) out->push_back(std::move(t));
  committed_.clear();
}

void DurableCommitter::Fail(const std::string& why) {
  metrics::Server().unrecoverable_error_count.Add();
  AV_LOG(kError,
         "transaction log failure: {}; writes are no longer acknowledged (reads go on). Fix the disk and restart.",
         why);
  // Whatever reached the file since the last successful fsync was never
  // acknowledged: cut it off, so that a write answered "failed" can never
  // come back at restart. If even that fails, those writes' outcome is
  // unknown and their clients see connection loss instead of an error.
  const int64_t appended = wal_.last_zxid();
  std::string error;
  if (wal_.Rollback(&error)) {
    unknown_through_.store(wal_.synced_zxid());
  } else {
    unknown_through_.store(appended);
    AV_LOG(kError, "could not cut the log back to its last fsync ({}): the outcome of txns {:#x}..{:#x} is unknown",
           error, wal_.synced_zxid() + 1, appended);
  }
  std::lock_guard<std::mutex> lock(mu_);
  failed_.store(true);
  queue_.clear();
}

bool DurableCommitter::Append(txn::Txn& t, std::string* error) {
  if (wal_.Append(t, error)) return true;
  if (wal_.poisoned()) return false;
  // Refused, not failed (prepare bounds every txn, so this is a bug there):
  // log the txn as failed in its place, keeping the zxid sequence and the
  // log going, rather than stopping every write.
  AV_LOG(kError, "the log refused txn {:#x} of session {:#x} ({}); logging it as failed (BADARGUMENTS)", t.zxid,
         t.session_id, *error);
  txn::Txn failed;
  failed.session_id = t.session_id;
  failed.cxid = t.cxid;
  failed.zxid = t.zxid;
  failed.time_ms = t.time_ms;
  failed.type = proto::OpCode::kError;
  failed.op = txn::Op{proto::OpCode::kError, txn::ErrorTxn{proto::Err::kBadArguments}};
  t = std::move(failed);
  return wal_.Append(t, error);
}

void DurableCommitter::Run() {
  base::RequestShortSlice();  // AVIARY_SCHED_SLICE_US, off by default (base/thread_slice.h)
  std::vector<Item> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || (!queue_.empty() && !busy_); });
      if (stop_ && (queue_.empty() || busy_)) return;
      busy_ = true;
      batch.swap(queue_);
    }
    WriteGroup(batch, /*wake=*/true);
    std::lock_guard<std::mutex> lock(mu_);
    busy_ = false;
  }
}

void DurableCommitter::WriteGroup(std::vector<Item>& batch, bool wake) {
  if (failed_.load()) {
    batch.clear();
    return;
  }
  if (trace::On()) {
    const int64_t now_us = trace::NowUs();
    for (const auto& item : batch) {
      if (!item.roll && item.proposed_us != 0) trace::Record(trace::kGroupWait, now_us - item.proposed_us);
    }
  }
  std::string error;
  bool ok = true;
  for (auto& item : batch) {
    if (item.roll) {
      // Everything before the roll must be durable first. An empty
      // segment already starts where the new one would.
      ok = Sync(done_, wake, &error) && (wal_.txns_in_segment() == 0 || wal_.Roll(item.roll_zxid, &error));
    } else {
      ok = Append(item.txn, &error);
      if (ok) done_.push_back(std::move(item.txn));
    }
    if (!ok) break;
  }
  batch.clear();
  if (ok) ok = Sync(done_, wake, &error);
  if (!ok) {
    // Txns appended but not fsynced are not committed: they are dropped.
    done_.clear();
    Fail(error);
  }
}

bool DurableCommitter::Sync(std::vector<txn::Txn>& done, bool wake, std::string* error) {
  if (done.empty()) return true;
  const auto sync_start = std::chrono::steady_clock::now();
  if (!wal_.Sync(error)) return false;
  const auto sync_end = std::chrono::steady_clock::now();
  metrics::Server().fsync_time.Add(
      std::chrono::duration_cast<std::chrono::milliseconds>(sync_end - sync_start).count());
  trace::Record(trace::kFsync, std::chrono::duration_cast<std::chrono::microseconds>(sync_end - sync_start).count());
  metrics::Server().sync_processor_batch_size.Add(static_cast<int64_t>(done.size()));
  const int64_t logged = done.back().zxid;
  bool released = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    logged_through_.store(logged);
    if (commit_on_log_ && logged_.empty()) {
      // Standalone: committed as logged, straight to the core's list.
      committed_through_.store(logged);
      if (committed_.empty()) {
        committed_.swap(done);
      } else {
        for (auto& t : done) committed_.push_back(std::move(t));
      }
      ready_.store(true, std::memory_order_release);
      released = true;
    } else {
      for (auto& t : done) logged_.push_back(std::move(t));
      released = ReleaseLocked();
    }
  }
  done.clear();
  if (on_logged_) on_logged_(logged);
  if (released && wake) {
    if (trace::On()) woke_at_us_.store(trace::NowUs(), std::memory_order_relaxed);
    wake_();
  }
  return true;
}

bool DurableCommitter::ReleaseLocked() {
  bool any = false;
  while (!logged_.empty() && (commit_on_log_ || logged_.front().zxid <= commit_target_)) {
    committed_through_.store(logged_.front().zxid);
    committed_.push_back(std::move(logged_.front()));
    logged_.pop_front();
    any = true;
  }
  if (any) ready_.store(true, std::memory_order_release);
  return any;
}

void DurableCommitter::CommitThrough(int64_t zxid) {
  bool released = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    commit_target_ = std::max(commit_target_, zxid);
    released = ReleaseLocked();
  }
  if (released) wake_();
}

}  // namespace aviary::server
