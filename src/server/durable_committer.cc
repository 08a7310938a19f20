#include "server/durable_committer.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <iterator>

#include "base/clock.h"
#include "base/log.h"
#include "base/thread_slice.h"
#include "metrics/server_metrics.h"
#include "server/latency_trace.h"

namespace aviary::server {

namespace {
int64_t SteadyUs() { return base::SystemClock::Get().SteadyUs(); }

// The latency trace's write split (server/latency_trace.h): every txn of a
// group reaches mark `m` now.
void MarkTxns(const std::vector<txn::Txn>& txns, trace::Mark m) {
  if (!trace::On() || txns.empty()) return;
  const int64_t now_us = trace::NowUs();
  for (const auto& t : txns) trace::MarkWriteSlow(t.zxid, m, now_us);
}
}  // namespace

DurableCommitter::DurableCommitter(storage::WalOptions opts, std::function<void()> wake)
    : pipeline_ok_(opts.force_sync && opts.zero_fill_bytes <= 0), wal_(std::move(opts)), wake_(std::move(wake)) {}

DurableCommitter::~DurableCommitter() { Stop(); }

bool DurableCommitter::Start(int64_t next_zxid, std::string* error) {
  if (!wal_.Open(next_zxid, error)) return false;
  // Groups in flight only where each group is one durable write of its own
  // bytes and acks need no order of their own (see the header comment).
  if (!pipeline_ok_ || !commit_on_log_ || on_logged_) max_in_flight_ = 1;
  max_in_flight_ = std::clamp(max_in_flight_, 1, kMaxGroupsInFlight);
  if (max_in_flight_ == 1) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "av-wal");  // for top -H / perf
      Run();
    });
  } else {
    for (int i = 0; i < max_in_flight_; ++i) {
      threads_.emplace_back([this, i] {
        const std::string name = "av-wal-" + std::to_string(i);
        pthread_setname_np(pthread_self(), name.c_str());  // for top -H / perf
        RunPipelined();
      });
    }
  }
  return true;
}

void DurableCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void DurableCommitter::Propose(txn::Txn txn) { Stage(Item{false, 0, std::move(txn), 0, {}}); }

void DurableCommitter::ProposeWithReply(txn::Txn txn, const EarlyReply& reply) {
  Stage(Item{false, 0, std::move(txn), 0, early_replies() ? reply : EarlyReply{}});
}

void DurableCommitter::Stage(Item item) {
  ++pass_proposals_;
  if (failed_.load()) return;  // never committed, never acknowledged
  const int64_t now_us = trace::On() ? trace::NowUs() : 0;
  if (now_us != 0) trace::MarkWriteSlow(item.txn.zxid, trace::kMarkProposed, now_us);
  item.proposed_us = now_us;
  staged_.push_back(std::move(item));
  if (staged_.size() >= kStageChunk) {
    // Not worth waiting for: a storage thread holding mu_ may be sending a
    // group's early replies; EndOfPass hands over whatever is left.
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (lock.owns_lock()) UnstageLocked();
  }
}

void DurableCommitter::UnstageLocked() {
  if (staged_.empty()) return;
  if (failed_.load()) {  // never committed, never acknowledged
    staged_.clear();
    return;
  }
  for (Item& item : staged_) {
    // A lingering group waits for the recent writers that were not in it or
    // the queue (PlanLingerLocked): once the last of them has sent, nobody
    // else is likely to come, so the linger ends (EndOfPass then starts it).
    if (linger_until_us_ != 0 && !linger_missing_.empty()) {
      const auto it = std::lower_bound(linger_missing_.begin(), linger_missing_.end(), item.txn.session_id);
      if (it != linger_missing_.end() && *it == item.txn.session_id) {
        linger_missing_.erase(it);
        if (linger_missing_.empty()) linger_until_us_ = 0;
      }
    }
    queue_.push_back(std::move(item));
  }
  staged_.clear();
}

bool DurableCommitter::EndOfPass(bool core_idle) {
  pass_proposals_ = 0;
  {
    std::unique_lock<std::mutex> lock(mu_);
    UnstageLocked();
    if (queue_.empty()) return false;
    if (trace::On()) {  // the write split: handed to the log (the first pass end that saw it)
      const int64_t now_us = trace::NowUs();
      for (const auto& item : queue_) {
        if (!item.roll) trace::MarkWriteSlow(item.txn.zxid, trace::kMarkSubmitted, now_us);
      }
    }
    // A lingering group (set_group_linger_us) is left to a storage thread.
    if (!core_idle || appending_ || in_flight_ > 0 || failing_ || !commit_on_log_ || failed_.load() ||
        (linger_until_us_ != 0 && LingerUntilLocked(SteadyUs()) != 0)) {
      // Wake a storage thread only if it can take the queue now (otherwise
      // the thread whose group ends takes it): with groups in flight one
      // thread is always waiting, and a wake-up per pass for nothing costs
      // a context switch each.
      const bool take = max_in_flight_ > 1 ? TakeNowLocked() : !appending_;
      lock.unlock();
      if (take) cv_.notify_one();
      return false;
    }
    appending_ = true;
    inline_batch_.swap(queue_);
    rolls_queued_ = 0;
  }
  WriteGroup(inline_batch_, /*wake=*/false);
  bool more = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    appending_ = false;
    more = !queue_.empty();
  }
  if (more) cv_.notify_one();
  return true;
}

void DurableCommitter::RequestRoll(int64_t next_zxid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    UnstageLocked();  // the roll comes after every txn proposed before it
    queue_.push_back(Item{true, next_zxid, {}, 0, {}});
    ++rolls_queued_;
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
    const int64_t now_us = trace::NowUs();
    const int64_t woke = woke_at_us_.exchange(0, std::memory_order_relaxed);
    if (woke != 0) trace::Record(trace::kCommitWake, now_us - woke);
    for (const auto& t : committed_) trace::MarkWriteSlow(t.zxid, trace::kMarkTook, now_us);
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
  std::unique_lock<std::mutex> lock(mu_);
  // Committed txns whose replies are being sent reach the core before it
  // can see the failure (ApplyCommitted reads ReadOnly first).
  post_waiter_ = true;
  posted_cv_.wait(lock, [this] { return !posting_; });
  post_waiter_ = false;
  failed_.store(true);
  queue_.clear();
  rolls_queued_ = 0;
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
      cv_.wait(lock, [this] { return stop_ || (!queue_.empty() && !appending_); });
      if (stop_ && (queue_.empty() || appending_)) return;
      appending_ = true;
      batch.swap(queue_);
      rolls_queued_ = 0;
    }
    WriteGroup(batch, /*wake=*/true);
    std::lock_guard<std::mutex> lock(mu_);
    appending_ = false;
  }
}

bool DurableCommitter::CanTakeLocked() const {
  if (queue_.empty() || appending_ || failing_ || failed_.load()) return false;
  // A roll closes the segment: nothing may be in flight in it.
  if (rolls_queued_ != 0) return in_flight_ == 0;
  if (in_flight_ == 0) return true;
  if (in_flight_ >= max_in_flight_) return false;
  if (queue_.size() >= min_overlapped_) return true;
  // A small group starts beside a write that has run unusually long
  // (set_overlap_after_us): its txns wait for that write anyway, not
  // also for their own after it.
  if (overlap_after_us_ <= 0) return false;
  for (const Flight& f : flights_) {
    if (!f.done) return SteadyUs() - f.start_us >= overlap_after_us_;  // the oldest write in flight
  }
  return false;
}

int64_t DurableCommitter::LingerUntilLocked(int64_t now_us) const {
  // Only a group that would start with nothing in flight (a second one
  // needs min_overlapped_ txns anyway), never a roll or when stopping.
  if (linger_until_us_ == 0 || stop_ || in_flight_ != 0 || rolls_queued_ != 0 || queue_.size() >= min_overlapped_) {
    return 0;
  }
  return now_us < linger_until_us_ ? linger_until_us_ : 0;
}

int64_t GroupLinger::Plan(int64_t cap_us, int64_t write_factor, size_t min_group, size_t written, size_t waiting,
                          int64_t write_us, size_t sessions_now, size_t sessions_recent) {
  if (cap_us <= 0 || waiting == 0 || written >= min_group || sessions_now >= sessions_recent) return 0;
  if (write_factor <= 0) return cap_us;
  return std::clamp<int64_t>(write_us * write_factor, 0, cap_us);
}

void DurableCommitter::PlanLingerLocked(const std::vector<txn::Txn>& written, int64_t write_us) {
  for (const auto& t : written) {
    recent_writers_[recent_pos_] = t.session_id;
    recent_pos_ = (recent_pos_ + 1) % kRecentWriters;
  }
  recent_count_ = std::min(kRecentWriters, recent_count_ + written.size());
  linger_until_us_ = 0;
  linger_missing_.clear();
  if (queue_.empty() || written.size() >= min_overlapped_) return;  // the cheap exits first
  // Distinct sessions: among the recent writers, and in this group and the
  // queue (small here: fewer than min_overlapped_ written, the queue a
  // write's worth of a moderate stream).
  std::array<int64_t, kRecentWriters> recent;
  std::copy_n(recent_writers_.begin(), recent_count_, recent.begin());
  std::sort(recent.begin(), recent.begin() + static_cast<ptrdiff_t>(recent_count_));
  const auto recent_end = std::unique(recent.begin(), recent.begin() + static_cast<ptrdiff_t>(recent_count_));
  const size_t sessions_recent = static_cast<size_t>(recent_end - recent.begin());
  std::vector<int64_t> now;
  now.reserve(written.size() + queue_.size());
  for (const auto& t : written) now.push_back(t.session_id);
  for (const auto& item : queue_) {
    if (!item.roll) now.push_back(item.txn.session_id);
  }
  std::sort(now.begin(), now.end());
  now.erase(std::unique(now.begin(), now.end()), now.end());
  const int64_t wait_us = GroupLinger::Plan(linger_us_, linger_write_factor_, min_overlapped_, written.size(),
                                            queue_.size(), write_us, now.size(), sessions_recent);
  if (wait_us <= 0) return;
  linger_until_us_ = SteadyUs() + wait_us;
  // The recent writers not in them: in a closed loop, those whose replies
  // are on their way; the linger waits for them, not longer (Propose).
  std::set_difference(recent.begin(), recent_end, now.begin(), now.end(), std::back_inserter(linger_missing_));
}

bool DurableCommitter::TakeNowLocked() const {
  if (!CanTakeLocked()) return false;
  return linger_until_us_ == 0 || LingerUntilLocked(SteadyUs()) == 0;
}

void DurableCommitter::RunPipelined() {
  base::RequestShortSlice();  // AVIARY_SCHED_SLICE_US, off by default (base/thread_slice.h)
  std::vector<Item> batch;
  std::vector<txn::Txn> txns;
  std::vector<IndexedReply> replies;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || CanTakeLocked(); });
    if (!CanTakeLocked()) return;  // stopping
    // A small group lingers (set_group_linger_us): EndOfPass wakes a thread
    // only once the group is large enough, else the timed wait ends it.
    if (const int64_t until = LingerUntilLocked(SteadyUs()); until != 0) {
      cv_.wait_until(lock, std::chrono::steady_clock::time_point(std::chrono::microseconds(until)));
      continue;  // everything is checked again
    }
    appending_ = true;
    batch.swap(queue_);
    const bool roll = rolls_queued_ > 0;  // then nothing is in flight (CanTakeLocked)
    rolls_queued_ = 0;
    lock.unlock();
    if (roll) {
      // Sync, roll, go on in the new segment: the one-group path.
      WriteGroup(batch, /*wake=*/true);
      lock.lock();
      appending_ = false;
      if (CanTakeLocked()) cv_.notify_one();
      continue;
    }
    if (trace::On()) {
      const int64_t now_us = trace::NowUs();
      for (const auto& item : batch) {
        if (item.proposed_us != 0) trace::Record(trace::kGroupWait, now_us - item.proposed_us);
      }
    }
    std::string error;
    bool ok = true;
    for (auto& item : batch) {
      ok = Append(item.txn, &error);
      if (!ok) break;
      if (item.reply.size != 0) replies.emplace_back(txns.size(), item.reply);
      txns.push_back(std::move(item.txn));
    }
    batch.clear();
    storage::Wal::Group group;
    if (ok) ok = wal_.TakeGroup(&group, &error);
    lock.lock();
    appending_ = false;
    if (!ok || failing_) {
      // Not written (or written by no one): never committed.
      txns.clear();
      replies.clear();
      if (!ok && !failing_) {
        failing_ = true;
        fail_reason_ = error;
      }
      FinishFailure(lock);
      continue;
    }
    // References to a deque's elements survive pushes and pops at the ends;
    // this one is popped only once done, which this thread sets.
    Flight& f = flights_.emplace_back();
    if (overlap_after_us_ > 0) f.start_us = SteadyUs();
    f.txns.swap(txns);
    f.replies.swap(replies);
    f.group = std::move(group);
    ++in_flight_;
    if (CanTakeLocked()) cv_.notify_one();  // what queued meanwhile: the other thread takes it
    lock.unlock();

    if (group_write_hook_) group_write_hook_(f.group.seq, false);
    const auto sync_start = std::chrono::steady_clock::now();
    MarkTxns(f.txns, trace::kMarkWriteStart);
    ok = wal_.WriteGroup(f.group, &error);
    const auto sync_end = std::chrono::steady_clock::now();
    MarkTxns(f.txns, trace::kMarkWritten);
    if (group_write_hook_) group_write_hook_(f.group.seq, true);
    if (ok) {
      metrics::Server().fsync_time.Add(
          std::chrono::duration_cast<std::chrono::milliseconds>(sync_end - sync_start).count());
      trace::Record(trace::kFsync,
                    std::chrono::duration_cast<std::chrono::microseconds>(sync_end - sync_start).count());
      metrics::Server().sync_processor_batch_size.Add(static_cast<int64_t>(f.txns.size()));
    }

    lock.lock();
    f.done = true;
    f.ok = ok;
    --in_flight_;
    // More txns came while it was written: a steady stream, so the next
    // group may linger (set_group_linger_us) from the end of this write.
    if (linger_us_ > 0) {
      PlanLingerLocked(f.txns, std::chrono::duration_cast<std::chrono::microseconds>(sync_end - sync_start).count());
    }
    if (!ok && !failing_) {
      failing_ = true;
      fail_reason_ = error;
    }
    // Groups durable with all before them are committed even when a later
    // one failed (before the stage reports the failure: Core reads
    // ReadOnly before TakeCommitted); a failed group stops every release
    // after it.
    const bool released = ReleaseFlightsLocked(lock);
    // This thread goes back to waiting for a group itself (cv_.wait checks
    // first): no other thread needs waking for the slot it frees.
    if (released) {
      lock.unlock();
      if (trace::On()) woke_at_us_.store(trace::NowUs(), std::memory_order_relaxed);
      wake_();
      lock.lock();
    }
    if (failing_) FinishFailure(lock);
  }
}

bool DurableCommitter::ReleaseFlightsLocked(std::unique_lock<std::mutex>& lock) {
  bool any = false;
  while (!flights_.empty() && flights_.front().done && flights_.front().ok) {
    // Out of flights_ before DeliverLocked may release mu_: another thread
    // whose write returns meanwhile releases only what comes after it.
    Flight& f = flights_.front();
    wal_.GroupDurable(f.group);
    MarkTxns(f.txns, trace::kMarkReleased);
    std::vector<txn::Txn> txns = std::move(f.txns);
    std::vector<IndexedReply> replies = std::move(f.replies);
    flights_.pop_front();
    if (txns.empty()) continue;
    const int64_t logged = txns.back().zxid;
    logged_through_.store(logged);
    // Before the early replies go out: a sync() of a client that saw one
    // of them finds its txn committed (Core::HoldSync).
    committed_through_.store(logged);
    if (DeliverLocked(lock, txns, replies)) any = true;
  }
  return any;
}

bool DurableCommitter::DeliverLocked(std::unique_lock<std::mutex>& lock, std::vector<txn::Txn>& txns,
                                     std::vector<IndexedReply>& replies) {
  if (txns.empty()) return false;
  if (!posting_ && to_post_.empty() && (replies.empty() || !early_sink_)) {
    replies.clear();
    HandOverLocked(txns);
    return true;
  }
  const size_t base = to_post_.size();
  for (const auto& [index, reply] : replies) to_post_replies_.emplace_back(base + index, reply);
  replies.clear();
  if (to_post_.empty()) {
    to_post_.swap(txns);
  } else {
    for (auto& t : txns) to_post_.push_back(std::move(t));
  }
  txns.clear();
  if (posting_) return false;  // the sender hands them over after its own
  posting_ = true;
  while (!to_post_.empty()) {
    post_txns_.swap(to_post_);
    post_replies_.swap(to_post_replies_);
    lock.unlock();
    SendEarly(post_txns_, post_replies_);
    post_replies_.clear();
    lock.lock();
    HandOverLocked(post_txns_);
  }
  posting_ = false;
  if (post_waiter_) posted_cv_.notify_all();
  return true;
}

void DurableCommitter::HandOverLocked(std::vector<txn::Txn>& txns) {
  if (committed_.empty()) {
    committed_.swap(txns);
  } else {
    for (auto& t : txns) committed_.push_back(std::move(t));
  }
  txns.clear();
  ready_.store(true, std::memory_order_release);
}

void DurableCommitter::FinishFailure(std::unique_lock<std::mutex>& lock) {
  // The last thread out cuts the log back: nothing else may touch it then
  // (and what was released before the failure is handed over first).
  if (appending_ || in_flight_ > 0 || posting_ || fail_started_) return;
  fail_started_ = true;
  flights_.clear();  // written or not, none of them is committed
  const std::string why = fail_reason_;
  lock.unlock();
  Fail(why);
  lock.lock();
  cv_.notify_all();
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
      if (ok && item.reply.size != 0) done_replies_.emplace_back(done_.size(), item.reply);
      if (ok) done_.push_back(std::move(item.txn));
    }
    if (!ok) break;
  }
  batch.clear();
  if (ok) ok = Sync(done_, wake, &error);
  if (!ok) {
    // Txns appended but not fsynced are not committed: they are dropped.
    done_.clear();
    done_replies_.clear();
    Fail(error);
  }
}

bool DurableCommitter::Sync(std::vector<txn::Txn>& done, bool wake, std::string* error) {
  if (done.empty()) return true;
  const auto sync_start = std::chrono::steady_clock::now();
  MarkTxns(done, trace::kMarkWriteStart);
  if (!wal_.Sync(error)) return false;
  const auto sync_end = std::chrono::steady_clock::now();
  MarkTxns(done, trace::kMarkWritten);
  metrics::Server().fsync_time.Add(
      std::chrono::duration_cast<std::chrono::milliseconds>(sync_end - sync_start).count());
  trace::Record(trace::kFsync, std::chrono::duration_cast<std::chrono::microseconds>(sync_end - sync_start).count());
  metrics::Server().sync_processor_batch_size.Add(static_cast<int64_t>(done.size()));
  const int64_t logged = done.back().zxid;
  bool released = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    logged_through_.store(logged);
    if (commit_on_log_) {
      // Standalone: committed as logged (logged_ stays empty), to the core
      // after the early replies (CommittedThrough first, as in
      // ReleaseFlightsLocked).
      MarkTxns(done, trace::kMarkReleased);
      committed_through_.store(logged);
      released = DeliverLocked(lock, done, done_replies_);
    } else {
      done_replies_.clear();  // none: early replies are standalone only
      for (auto& t : done) logged_.push_back(std::move(t));
      released = ReleaseLocked();
    }
  }
  done.clear();
  done_replies_.clear();
  if (on_logged_) on_logged_(logged);
  if (released && wake) {
    if (trace::On()) woke_at_us_.store(trace::NowUs(), std::memory_order_relaxed);
    wake_();
  }
  return true;
}

void DurableCommitter::SendEarly(std::vector<txn::Txn>& txns, const std::vector<IndexedReply>& replies) {
  if (replies.empty() || !early_sink_) return;
  // One Out per connection, its replies in zxid order.
  early_index_.clear();
  for (const auto& [index, reply] : replies) {
    txns[index].replied = true;
    const auto [it, fresh] = early_index_.try_emplace(reply.conn, early_out_.size());
    if (fresh) {
      net::ConnectionServer::Out& o = early_out_.emplace_back();
      o.conn = reply.conn;
      if (!early_spare_.empty()) {
        o.bytes.swap(early_spare_.back());
        early_spare_.pop_back();
      }
    }
    early_out_[it->second].bytes.append(reply.view());
  }
  early_sent_.fetch_add(static_cast<int64_t>(replies.size()), std::memory_order_relaxed);
  early_sink_(early_out_);
  for (auto& o : early_out_) {  // written at once: emptied, storage kept
    o.bytes.clear();
    if (o.bytes.capacity() != 0 && early_spare_.size() < 64) early_spare_.push_back(std::move(o.bytes));
  }
  early_out_.clear();
}

bool DurableCommitter::ReleaseLocked() {
  bool any = false;
  while (!logged_.empty() && (commit_on_log_ || logged_.front().zxid <= commit_target_)) {
    ready_.store(true, std::memory_order_release);  // before CommittedThrough moves
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
