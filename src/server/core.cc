#include "server/core.h"

#include <algorithm>
#include <chrono>

#include "base/check.h"
#include "base/log.h"
#include "metrics/server_metrics.h"
#include "server/core_state.h"
#include "server/heap_release.h"
#include "server/latency_trace.h"
#include "storage/limits.h"
#include "storage/txn_codec.h"

namespace aviary::server {

namespace {
txn::PrepareOptions PreparerOptions(const CoreOptions& o, txn::QuotaErrorCounts* quota_errors) {
  txn::PrepareOptions p;
  p.max_buffer = o.max_buffer;
  p.extended_types_enabled = o.extended_types_enabled;
  p.enforce_quota = o.enforce_quota;
  p.quota_errors = quota_errors;
  p.super_digest = o.super_digest;
  // Bound every txn by what the log takes (storage/limits.h), so that no
  // request can make the log refuse a record.
  p.op_bytes = [](const txn::Op& op) { return storage::EncodedOpBytes(op); };
  p.max_ops_bytes = storage::MaxTxnOpsBytes(o.max_buffer);
  return p;
}
}  // namespace

Core::Core(CoreOptions options, Committer* committer, Outbox* outbox)
    : opts_(std::move(options)),
      committer_(committer),
      outbox_(outbox),
      clock_(opts_.clock != nullptr ? opts_.clock : &base::SystemClock::Get()),
      tree_(sm_.tree()),
      sessions_(opts_.server_id, opts_.tick_ms, opts_.min_session_timeout_ms, opts_.max_session_timeout_ms,
                opts_.password_secret, opts_.max_sessions),
      watches_(watch::WatchLimits{opts_.max_watches_per_session, opts_.max_watch_bytes_per_session}) {
  start_ms_ = clock_->SteadyMs();
  sequencer_ = MakeLeaderSequencer();
}

std::unique_ptr<LeaderSequencer> Core::MakeLeaderSequencer() {
  auto s = std::make_unique<LeaderSequencer>(tree_, &sessions_, committer_, PreparerOptions(opts_, &quota_errors_),
                                             opts_.container_check_interval_ms, clock_->SteadyMs());
  s->Reset(applied_zxid_);
  return s;
}

void Core::SetSequencer(std::unique_ptr<Sequencer> s) {
  AV_CHECK(creating_.empty() && queued_ == 0, "role change with {} writes and {} sessions pending", queued_,
           creating_.size());
  sequencer_ = std::move(s);
}

Core::~Core() = default;

void Core::Post(std::vector<CoreEvent>& events) {
  int64_t requests = 0;
  for (const auto& e : events) requests += e.kind == CoreEvent::Kind::kRequest;
  inbox_requests_.fetch_add(requests, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (inbox_.empty()) {
      inbox_.swap(events);
    } else {
      for (auto& e : events) inbox_.push_back(std::move(e));
    }
    signalled_.store(true, std::memory_order_release);
  }
  events.clear();
  cv_.notify_one();
}

void Core::Submit(std::vector<CoreEvent>& events) {
  if (!RunInline(events)) Post(events);
}

bool Core::RunInline(std::vector<CoreEvent>& events) {
  // Standalone only: an ensemble member's core talks to its QuorumPeer.
  if (!opts_.run_to_completion || forwarder_ != nullptr ||
      role_.load(std::memory_order_relaxed) != ServingRole::kStandalone) {
    return false;
  }
  // Several requests with a write among them are a sign of concurrent
  // writers, whose writes the core thread groups together (the wake-up it
  // takes lets the other I/O thread's frames join the pass). Reads need no
  // grouping: a few of them (and a lone write) run here. Many (a loaded
  // server: up to kMaxFramesPerPass per connection) go to the core thread
  // as before, so the I/O thread goes back to reading while the core works.
  int requests = 0;
  bool writes = false;
  for (const auto& e : events) {
    if (e.kind == CoreEvent::Kind::kRequest) {
      ++requests;
      writes = writes || IsWrite(e.request.op());
    } else if (e.kind == CoreEvent::Kind::kConnect) {
      writes = true;  // a new session is a createSession txn
    }
  }
  if (requests > 1 && (writes || requests > kInlineMaxReads)) return false;
  std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
  if (!run.owns_lock()) return !writes && Join(events);
  if (snapshotting_) return false;
  // Writes in flight (a group on the storage thread): the core thread
  // gathers what arrives meanwhile into the next group, as before. Passes
  // run here would split it and hold the token while the core thread
  // waits to apply the commits.
  if (applied_zxid_ < sequencer_->last_proposed()) return false;
  // Other clients were active during a recent lone-write fsync
  // (SubmitProposals): the core thread serves them while the disk works.
  const int64_t now = clock_->SteadyMs();
  if (now < inline_sync_backoff_until_ms_) return false;
  return PassHere(events, now);
}

bool Core::PassHere(std::vector<CoreEvent>& events, int64_t now) {
  {
    // Anything in the inbox came first (maybe from this connection): it
    // goes first, on the core thread; so do commits the storage thread
    // made ready.
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || !core_waiting_ || !inbox_.empty() || commits_ready_) return false;
    inline_running_ = true;
  }
  ProcessBatch(events, now);
  events.clear();
  inline_passes_.fetch_add(1, std::memory_order_relaxed);
  RunJoined();
  snapshotting_ = SnapshotPass(now);
  if (snapshotting_) WakeForCommits();  // the core thread builds the rest, a slice per pass
  return true;
}

bool Core::ApplyCommitsInline() {
  if (!opts_.run_to_completion || forwarder_ != nullptr ||
      role_.load(std::memory_order_relaxed) != ServingRole::kStandalone) {
    return false;
  }
  std::unique_lock<std::mutex> run(run_mu_, std::try_to_lock);
  if (!run.owns_lock()) return false;  // the holder's pass (or the core thread's) is woken instead
  if (snapshotting_) return false;
  std::vector<CoreEvent> none;  // the pass applies the commits
  return PassHere(none, clock_->SteadyMs());
}

bool Core::Join(std::vector<CoreEvent>& events) {
  int64_t requests = 0;
  for (const auto& e : events) requests += e.kind == CoreEvent::Kind::kRequest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Behind anything in the inbox (maybe this connection's earlier
    // frames), the core thread's; and only while an inline pass will look.
    if (!inline_running_ || stop_ || !inbox_.empty()) return false;
    inbox_requests_.fetch_add(requests, std::memory_order_relaxed);  // Backlog()
    if (joined_.empty()) {
      joined_.swap(events);
    } else {
      for (auto& e : events) joined_.push_back(std::move(e));
    }
  }
  events.clear();
  joined_submits_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Core::RunJoined() {
  std::vector<CoreEvent> batch;
  for (int round = 0;; ++round) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Enough rounds, or the core thread has work of its own: the rest goes
      // to it, ahead of what came after it (joined_ precedes inbox_).
      const bool hand_over = round == kInlineJoinRounds || stop_ || commits_ready_ || !inbox_.empty();
      if (joined_.empty() || hand_over) {
        if (!joined_.empty()) {
          for (auto& e : inbox_) joined_.push_back(std::move(e));
          inbox_.swap(joined_);
          joined_.clear();
        }
        inline_running_ = false;
        wake = !inbox_.empty();
        if (wake) signalled_.store(true, std::memory_order_release);
      } else {
        batch.swap(joined_);
      }
    }
    if (batch.empty()) {
      if (wake) cv_.notify_one();
      return;
    }
    int64_t requests = 0;
    for (const auto& e : batch) requests += e.kind == CoreEvent::Kind::kRequest;
    ProcessBatch(batch, clock_->SteadyMs());
    inbox_requests_.fetch_sub(requests, std::memory_order_relaxed);
    batch.clear();
  }
}

void Core::TakeInbox(std::vector<CoreEvent>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& e : inbox_) out->push_back(std::move(e));
  inbox_.clear();
}

bool Core::InboxIdle() {
  std::lock_guard<std::mutex> lock(mu_);
  return inbox_.empty() && joined_.empty();
}

void Core::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    signalled_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
}

void Core::WakeForCommits() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    commits_ready_ = true;
    signalled_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
}

void Core::Run() {
  std::vector<CoreEvent> batch;
  const auto idle_wait = std::chrono::milliseconds(std::max(10, opts_.tick_ms / 2));
  // Free heap goes back to the system once writes stop (heap_release.h).
  IdleTrim trim;
  const auto trim_wait = std::min(idle_wait, std::chrono::milliseconds(IdleTrim::kIdleMs / 2));
  while (true) {
    SpinForInput();
    {
      std::unique_lock<std::mutex> lock(mu_);
      // While a snapshot is being built, only yield briefly between slices.
      // An inline pass that starts one wakes this thread (WakeForCommits).
      auto wait = snapshotting_.load(std::memory_order_relaxed) ? std::chrono::milliseconds(1)
                  : trim.pending()                              ? trim_wait
                                                                : idle_wait;
      core_waiting_ = true;
      cv_.wait_for(lock, wait, [this] { return stop_ || !inbox_.empty() || commits_ready_; });
      core_waiting_ = false;
    }
    // The token before the inbox: an inline pass (Submit) can no longer
    // start, and none is running once we hold it.
    std::unique_lock<std::mutex> run(run_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) {
        AV_LOG(kInfo, "core stopping: {} passes ran on I/O threads (run to completion), {} submits joined one",
               inline_passes(), joined_submits());
        return;
      }
      batch.swap(inbox_);
      commits_ready_ = false;
      signalled_.store(false, std::memory_order_relaxed);
    }
    int64_t now = clock_->SteadyMs();
    int64_t requests = 0;
    for (const auto& e : batch) requests += e.kind == CoreEvent::Kind::kRequest;
    ProcessBatch(batch, now);
    inbox_requests_.fetch_sub(requests, std::memory_order_relaxed);
    batch.clear();
    Tick(now);
    snapshotting_ = SnapshotPass(now);
    if (!snapshotting_ && trim.Due(applied_zxid_, now)) {
      run.unlock();  // inline passes go on meanwhile
      ReleaseFreeHeap();
    }
  }
}

void Core::SpinForInput() {
  // Only while commits are due (writes in flight): an idle server sleeps at
  // once. No inline pass runs meanwhile (core_waiting_ is false), so the
  // core's own state may be read here.
  if (opts_.spin_us <= 0 || snapshotting_.load(std::memory_order_relaxed) ||
      applied_zxid_ >= sequencer_->last_proposed()) {
    return;
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(opts_.spin_us);
  for (int i = 0; !signalled_.load(std::memory_order_acquire); ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if ((i & 63) == 63 && std::chrono::steady_clock::now() >= until) return;
  }
}

namespace {

void PrefetchRequestPath(const CoreEvent& ev) {
  if (ev.kind != CoreEvent::Kind::kRequest) return;
  const std::string* path = nullptr;
  if (const auto* b = std::get_if<proto::SetDataRequest>(&ev.request.body)) {
    path = &b->path;
  } else if (const auto* g = std::get_if<proto::GetDataRequest>(&ev.request.body)) {
    path = &g->path;
  } else if (const auto* e = std::get_if<proto::ExistsRequest>(&ev.request.body)) {
    path = &e->path;
  } else if (const auto* c = std::get_if<proto::CreateRequest>(&ev.request.body)) {
    path = &c->path;
  }
  if (path != nullptr) __builtin_prefetch(path->data());
}

}  // namespace

void Core::ProcessBatch(std::vector<CoreEvent>& batch, int64_t now_ms) {
  const int64_t trace_start_us = trace::On() ? trace::NowUs() : 0;
  if (trace_start_us != 0) {
    for (const auto& ev : batch) {
      if (ev.kind == CoreEvent::Kind::kRequest) trace::Record(trace::kCoreWait, trace_start_us - ev.received_us);
    }
  }
  // A learner's request came after its member applied (and answered) what
  // the leader had committed before it, and the consensus thread hands
  // those commits over before it (QuorumPeer::FlushCore): apply them first,
  // so that the request is prepared against them (the overlay covers prepared
  // changes, but a quota check credits an applied delete only).
  for (const auto& ev : batch) {
    if (ev.kind == CoreEvent::Kind::kForwarded) {
      ApplyCommitted(now_ms);
      break;
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    // The path of a request two ahead was written by an I/O thread on the
    // other CPU: load it while this one runs (its first byte was the miss
    // of every write's path check, ~7 % of the core at set 16 x 16).
    if (i + 2 < batch.size()) PrefetchRequestPath(batch[i + 2]);
    CoreEvent& ev = batch[i];
    // Frames go back to the network as flow-control credit; a request's
    // once it is answered (see Credit).
    if (ev.kind == CoreEvent::Kind::kConnect || ev.kind == CoreEvent::Kind::kProtocolError) Credit(ev.conn);
    switch (ev.kind) {
      case CoreEvent::Kind::kOpened:
        OnOpened(ev);
        break;
      case CoreEvent::Kind::kConnect:
        OnConnect(ev, now_ms);
        break;
      case CoreEvent::Kind::kRequest:
        OnRequest(ev, now_ms);
        break;
      case CoreEvent::Kind::kFourLetter:
        OnFourLetter(ev, now_ms);
        break;
      case CoreEvent::Kind::kClosed:
        OnClosed(ev.conn);
        break;
      case CoreEvent::Kind::kDrained:
        OnDrained(ev.conn, now_ms);
        break;
      case CoreEvent::Kind::kProtocolError:
        AV_LOG(kWarn, "closing connection {:#x}: protocol error (malformed handshake or header)", ev.conn);
        outbox_->CloseNow(ev.conn);
        break;
      case CoreEvent::Kind::kForwarded:
        if (ev.forwarded) OnForwarded(*ev.forwarded);
        break;
      case CoreEvent::Kind::kRole:
        ChangeRole(ev.role, ev.role_epoch, now_ms);
        break;
      case CoreEvent::Kind::kTouches:
        TouchFromLearners(ev.touched, now_ms);
        break;
      case CoreEvent::Kind::kCall:
        ApplyCommitted(now_ms);
        if (ev.call) ev.call(*this, now_ms);
        break;
    }
  }
  // Reads answered in this pass leave their paths' storage to the I/O
  // threads (path_pool.h); queued ones took theirs into the session queue.
  for (auto& ev : batch) {
    if (ev.kind == CoreEvent::Kind::kRequest) path_pool_.KeepPathOf(ev.request);
  }
  ApplyCommitted(now_ms, /*slice=*/true);
  SendTouches();
  Flush();
  if (trace_start_us != 0) trace::Record(trace::kPass, trace::NowUs() - trace_start_us);
}

void Core::Tick(int64_t now_ms) {
  // Leader: expired sessions and container / TTL candidates become txns.
  // Later requests of an expiring session fail with SESSIONEXPIRED.
  for (int64_t id : sequencer_->Tick(now_ms, clock_->WallMs())) {
    metrics::Server().stale_sessions_expired.Add();  // ZooKeeper's name for every session expired
    auto st = session_state_.find(id);
    if (st != session_state_.end()) st->second.closing = true;
  }
  for (int64_t id : sequencer_->TakeExpiredLocal()) ExpireLocal(id);  // leader's local sessions
  ExpireRevalidations(now_ms);
  const ServingRole role = role_.load(std::memory_order_relaxed);
  if (role == ServingRole::kReadOnly || (role == ServingRole::kFollower && LocalSessionsOn())) {
    ExpireLocalSessions(now_ms);  // a learner expires only its local sessions
  }
  ApplyCommitted(now_ms);
  SendTouches();
  Flush();
}

}  // namespace aviary::server
