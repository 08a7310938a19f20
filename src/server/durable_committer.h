// The commit stage backed by the write-ahead log: a txn is committed (and
// may be acknowledged) only once its log record is written and fsynced.
//
// Group commit: Propose only queues (kStageChunk txns at a time reach the
// shared queue); EndOfPass submits the core pass's txns together. While the
// log is idle (no group being written) and the core has no other input, the
// core thread writes and fsyncs the group itself (one thread hop less each
// way: the latency of a lone write is the fsync plus the request's own
// work). Otherwise the storage thread takes every txn submitted since its
// last group, writes them all with one write, fsyncs once, then hands them
// back to the core, so throughput is not bounded by 1 / fsync latency and
// the core goes on preparing the next group meanwhile. Exactly one thread
// at a time appends to the log (appending_).
//
// Groups in flight (set_max_groups_in_flight(2)): there are that many
// storage threads. One appends a group and hands its bytes to its own
// durable write (Wal::TakeGroup / WriteGroup) and, while that write runs,
// the other can append the txns that arrived meanwhile and start the next
// group's write: a txn waits for one durable write, not for the end of the
// one in flight and then its own - once at least min_overlapped_group txns
// wait (a smaller group waits for the one in flight, as with one thread).
// Groups are released strictly in order:
// group N+1 is committed (and handed to the core) only once N and N+1 are
// both durable, so replies stay in zxid order and nothing is acknowledged
// before every txn up to it is on disk. A roll waits until no group is in
// flight. With one group in flight (this class's default; the server asks for
// two: ServerOptions::wal_groups_in_flight, docs/perf/storage.md),
// zero-fill segments or commit_on_log off (a follower's in-order acks), a
// single storage thread runs as before.
//
// Logged vs committed: by default (standalone) a txn is committed as soon
// as its fsync returns. With set_commit_on_log(false) (a follower) logged
// txns wait until CommitThrough(zxid) (the leader's COMMIT) covers them;
// on_logged (if set) is told, on the storage thread, the highest zxid each
// fsync made durable (the follower ACKs it). A COMMIT may arrive before
// the txn is logged here: it is then committed when its fsync returns.
//
// Threads: Propose / EndOfPass / TakeCommitted / RequestRoll / ReadOnly from
// the core thread (the thread holding the core's token: an I/O thread that
// runs a pass itself, Core::Submit, writes a lone group there); CommitThrough, LoggedThrough, CommittedThrough from any
// thread; the log itself is touched only by the storage thread. `wake` is called whenever committed txns are ready (on
// the storage thread, or on the thread calling CommitThrough), not for a group the core wrote itself.
//
// Failure: the first write or fsync error stops the stage for good: nothing
// after it is committed (so never acknowledged), ReadOnly() turns true and
// the reason is logged. With groups in flight the stage first stops taking
// groups; the groups before the failed one are still committed once
// durable, none after it (a later group that did become durable is not
// released: its predecessor is not); once no other write is in flight the
// log is cut back as below, to the end of the last committed group. Txns committed before the error stay committed; the
// log is cut back to the last fsync (Wal::Rollback), so the uncommitted ones
// cannot replay; if that cut fails, UnknownThrough() names them. A txn the
// log refuses without an I/O error (over its size bound: prepare prevents
// it) is logged as an error txn with the same zxid instead; the log goes on.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "net/connection_server.h"
#include "server/committer.h"
#include "storage/wal.h"

namespace aviary::server {

// The linger decision after a durable write returned with txns waiting
// (DurableCommitter::set_group_linger_us), pure so that tests drive it.
// A group lingers only
//   - after a small group (`written` < min_group): at saturation groups are
//     large and the next one must not wait;
//   - when fewer sessions have txns in that group and the queue than wrote
//     recently (`sessions_now` < `sessions_recent`): others are likely to
//     write soon. When every session that writes is already in them (a
//     closed loop: N clients each waiting for its reply), nobody else will
//     come until this group's replies go out, so waiting would only add its
//     own length to every write. The linger also ends as soon as each of
//     those other recent writers has sent a txn (DurableCommitter::Propose):
//     in a closed loop they are the sessions whose replies were on their way,
//     and nobody else will come;
// and for at most `write_factor` times that write's duration (0: no such
// bound), capped at `cap_us` (a fast device keeps its short latency).
// Returns the microseconds to wait; 0: start at once.
struct GroupLinger {
  static constexpr int64_t kWriteFactor = 2;
  static int64_t Plan(int64_t cap_us, int64_t write_factor, size_t min_group, size_t written, size_t waiting,
                      int64_t write_us, size_t sessions_now, size_t sessions_recent);
};

class DurableCommitter final : public Committer {
 public:
  DurableCommitter(storage::WalOptions opts, std::function<void()> wake);
  ~DurableCommitter() override;

  // Opens the log (a new segment starting at next_zxid) and starts the
  // storage thread. Call before the first Propose.
  bool Start(int64_t next_zxid, std::string* error);
  void Stop();
  // Before Start: see the header comment.
  void set_commit_on_log(bool on) { commit_on_log_ = on; }
  void set_on_logged(std::function<void(int64_t)> fn) { on_logged_ = std::move(fn); }
  // Before Start: how many groups may be being made durable at once (1 to
  // kMaxGroupsInFlight; see the header comment). Each is its own durable
  // write of disjoint bytes, released strictly in order.
  static constexpr int kMaxGroupsInFlight = 4;
  void set_max_groups_in_flight(int n) { max_in_flight_ = n; }
  // Before Start: a group starts while another is in flight only once at
  // least this many txns wait (smaller ones wait for it, as with one in
  // flight: at moderate rates a durable write per handful of txns costs
  // CPU and, on the measured VM, stalls; docs/perf/storage.md). 1: always.
  void set_min_overlapped_group(size_t n) { min_overlapped_ = n < 1 ? 1 : n; }
  // Before Start (groups in flight only): > 0 lets a small group linger
  // (GroupLinger below decides when and how long): after a small group's
  // durable write returns with more txns already waiting while other
  // sessions are writing too, the next group starts once
  // min_overlapped_group txns wait or after the linger, whichever comes
  // first: fewer, larger durable writes at moderate rates (each costs
  // kernel CPU and, on the measured VM, makes the host stall the guest;
  // docs/perf/pipeline.md, session 15). Nothing waits longer than `us`
  // for it, a group of min_overlapped_group or more never waits, and a txn
  // that arrives at an idle log (no write returned with txns waiting) is
  // not held. 0: off.
  // `write_factor`: GroupLinger's bound by the write's own duration (tests:
  // 0, the linger is then `us` whatever the device took).
  void set_group_linger_us(int64_t us, int64_t write_factor = GroupLinger::kWriteFactor) {
    linger_us_ = us < 0 ? 0 : us;
    linger_write_factor_ = write_factor < 0 ? 0 : write_factor;
  }
  // Before Start (groups in flight only): > 0 lets a group smaller than
  // min_overlapped_group start beside the write in flight once that write
  // has run this many microseconds (a write stalled on the disk: the txns
  // behind it then wait for it, not for it and then their own write). It
  // is checked when a pass submits txns (EndOfPass). 0: off.
  void set_overlap_after_us(int64_t us) { overlap_after_us_ = us < 0 ? 0 : us; }
  // Test hook, before Start: runs on the storage thread just before group
  // `seq` (Wal::Group::seq, groups in flight only) is written (written =
  // false) and right after its write returned (true).
  void set_group_write_hook(std::function<void(int64_t seq, bool written)> fn) { group_write_hook_ = std::move(fn); }
  // Logged txns up to `zxid` (and later ones up to it once logged) are
  // committed. Only needed when !commit_on_log.
  void CommitThrough(int64_t zxid);
  int64_t LoggedThrough() const override { return logged_through_.load(); }
  int64_t CommittedThrough() const override { return committed_through_.load(); }

  void Propose(txn::Txn txn) override;
  // Early replies (standalone: commit_on_log, no on_logged): before Start,
  // `sink` (the network's SendBatch) takes the replies of ProposeWithReply's
  // txns the moment their group is committed, before the txns are handed
  // back with `replied` set - on the thread that made the group durable, so
  // that they reach the network in zxid order and before anything the core
  // sends once it has applied them. The core skips its own reply to those
  // (one hop less per write: the core thread's wake-up, the apply of the
  // group before it, the pass's other sends). The sends run outside mu_
  // (one thread at a time, in release order: DeliverLocked), so that the
  // core's EndOfPass and the other storage thread do not wait for them.
  using EarlySink = std::function<void(std::vector<net::ConnectionServer::Out>&)>;
  void set_early_reply_sink(EarlySink sink) { early_sink_ = std::move(sink); }
  bool early_replies() const override { return static_cast<bool>(early_sink_) && commit_on_log_ && !on_logged_; }
  void ProposeWithReply(txn::Txn txn, const EarlyReply& reply) override;
  // Replies sent early so far (tests, metrics).
  int64_t early_replies_sent() const { return early_sent_.load(std::memory_order_relaxed); }
  bool EndOfPass(bool core_idle) override;
  bool HasPassProposals() const override { return pass_proposals_ != 0; }
  void TakeCommitted(std::vector<txn::Txn>* out) override;
  bool ReadOnly() const override { return failed_.load(std::memory_order_relaxed); }
  int64_t UnknownThrough() const override { return unknown_through_.load(); }
  // Starts a new segment whose first record is `next_zxid` once every txn
  // proposed before this call is written (ZooKeeper rolls at each snapshot).
  void RequestRoll(int64_t next_zxid) override;

 private:
  struct Item {
    bool roll = false;
    int64_t roll_zxid = 0;
    txn::Txn txn;
    int64_t proposed_us = 0;  // latency trace only (server/latency_trace.h)
    EarlyReply reply;         // size 0: none
  };
  // A txn's early reply, by its index in the group's txns.
  using IndexedReply = std::pair<size_t, EarlyReply>;
  // `txns` were committed (CommittedThrough covers them): they go to the
  // core (committed_) once their early `replies` are sent. The first thread
  // to find no sender becomes it: it sends outside mu_, then hands the txns
  // over, and goes on while other threads queued more (to_post_), so that
  // replies leave in zxid order and before the core can apply the txns.
  // Empties both vectors. mu_ held (`lock`) on entry and return; true when
  // this call handed txns to the core (the caller wakes it).
  bool DeliverLocked(std::unique_lock<std::mutex>& lock, std::vector<txn::Txn>& txns,
                     std::vector<IndexedReply>& replies);
  // Hands `replies` (of `txns`) to early_sink_, one Out per connection, and
  // marks those txns replied. The sender only (posting_), mu_ not held.
  void SendEarly(std::vector<txn::Txn>& txns, const std::vector<IndexedReply>& replies);
  // Moves `txns` to committed_ and sets ready_. mu_ held.
  void HandOverLocked(std::vector<txn::Txn>& txns);
  // Propose / ProposeWithReply.
  void Stage(Item item);
  // One group in flight at a time (one storage thread).
  void Run();
  // Groups in flight: each of the storage threads.
  void RunPipelined();
  // A thread may take the queue as the next pipelined group. mu_ held.
  bool CanTakeLocked() const;
  // While the queue may be taken but the group lingers (set_group_linger_us):
  // the steady-clock time (us) until which it waits; 0: take it now. mu_ held.
  int64_t LingerUntilLocked(int64_t now_us) const;
  // CanTakeLocked and not lingering: a thread is to take the queue now.
  bool TakeNowLocked() const;
  // After the durable write of `written` returned: notes its sessions as
  // recent writers and sets (or clears) the next group's linger. mu_ held.
  void PlanLingerLocked(const std::vector<txn::Txn>& written, int64_t write_us);
  // The in-flight groups that are durable with every group before them:
  // committed, in order (DeliverLocked); true when the core is to be woken.
  // mu_ held (`lock`; DeliverLocked may release it for a while).
  bool ReleaseFlightsLocked(std::unique_lock<std::mutex>& lock);
  // After a pipelined failure, once no group is being appended or written:
  // Fail (cut back to the last released group). `lock` (mu_) is held on
  // entry and on return.
  void FinishFailure(std::unique_lock<std::mutex>& lock);
  // Appends and fsyncs `batch` (the caller owns the log: appending_ with
  // nothing in flight), then commits it; on an error stops the stage
  // (Fail). `wake`: tell the core.
  void WriteGroup(std::vector<Item>& batch, bool wake);
  // Fsyncs, then moves `done` to the logged list, commits what may be
  // (ReleaseLocked) and, if `wake`, wakes the core.
  bool Sync(std::vector<txn::Txn>& done, bool wake, std::string* error);
  // Moves logged txns up to commit_target_ to committed_; true if any. mu_ held.
  bool ReleaseLocked();
  void Fail(const std::string& why);
  // Moves the staged proposals to queue_. mu_ held.
  void UnstageLocked();
  // Wal::Append; a refused (not failed) txn is replaced by an error txn.
  bool Append(txn::Txn& t, std::string* error);

  // A group being made durable while another may be (RunPipelined).
  struct Flight {
    std::vector<txn::Txn> txns;
    storage::Wal::Group group;
    std::vector<IndexedReply> replies;  // early replies of txns
    int64_t start_us = 0;               // steady clock, when taken (set_overlap_after_us only)
    bool done = false;                  // its write returned
    bool ok = false;
  };

  // Each group is one durable write of its own bytes (fsync on, fallocate()d
  // segments): groups may be in flight together.
  const bool pipeline_ok_;
  storage::Wal wal_;
  std::function<void()> wake_;
  std::vector<std::thread> threads_;
  int max_in_flight_ = 1;
  size_t min_overlapped_ = 1;
  int64_t linger_us_ = 0;
  int64_t linger_write_factor_ = GroupLinger::kWriteFactor;
  // The sessions of the last kRecentWriters txns written (a ring): how many
  // sessions write at all, for GroupLinger.
  static constexpr size_t kRecentWriters = 64;
  std::array<int64_t, kRecentWriters> recent_writers_{};
  size_t recent_pos_ = 0;
  size_t recent_count_ = 0;
  // While a group lingers: the recent writers (sorted) that had no txn in
  // the group just written or the queue; the linger ends once each has
  // proposed one.
  std::vector<int64_t> linger_missing_;
  int64_t overlap_after_us_ = 0;
  std::function<void(int64_t, bool)> group_write_hook_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> queue_;
  size_t rolls_queued_ = 0;  // roll items in queue_
  // A thread appends to wal_ (and, with nothing in flight, may Sync / Roll
  // it: the one-group path and the core's own group).
  bool appending_ = false;
  std::deque<Flight> flights_;  // taken groups, in order, until released
  int in_flight_ = 0;           // flights_ whose write has not returned
  // set_group_linger_us: a small group may wait until then (steady-clock
  // us; 0: no linger): set when a write returns with txns waiting.
  int64_t linger_until_us_ = 0;
  bool failing_ = false;       // a pipelined group failed: no group is taken or released
  bool fail_started_ = false;  // FinishFailure called Fail
  std::string fail_reason_;
  std::vector<Item> inline_batch_;  // the core's own group (core thread)
  // Proposals not yet in queue_ (core thread): they go there kStageChunk at
  // a time when mu_ is free and at EndOfPass / RequestRoll, one lock each, not one per txn
  // (the storage threads take mu_ as their writes return; a lock per txn
  // made the core's unlocks wake them: ~8 % of its time at set 16 x 16).
  static constexpr size_t kStageChunk = 16;
  std::vector<Item> staged_;
  size_t pass_proposals_ = 0;  // Propose calls since the last EndOfPass (core thread)
  // committed_ is not empty (set with it, under mu_): TakeCommitted skips
  // the lock when nothing is ready.
  std::atomic<bool> ready_{false};
  std::vector<txn::Txn> done_;              // appended, not yet fsynced (the owner of wal_)
  std::vector<IndexedReply> done_replies_;  // early replies of done_
  EarlySink early_sink_;
  // DeliverLocked: committed txns (and their early replies, by index in
  // to_post_) waiting for the sender (mu_); posting_ while a thread sends
  // (then it alone owns post_* and early_*); Fail waits for it to finish.
  std::vector<txn::Txn> to_post_;
  std::vector<IndexedReply> to_post_replies_;
  bool posting_ = false;
  bool post_waiter_ = false;  // Fail waits on posted_cv_
  std::condition_variable posted_cv_;
  std::vector<txn::Txn> post_txns_;
  std::vector<IndexedReply> post_replies_;
  std::vector<net::ConnectionServer::Out> early_out_;  // SendEarly's batch
  std::vector<std::string> early_spare_;               // its buffers, kept
  std::unordered_map<uint64_t, size_t> early_index_;   // connection -> early_out_ index
  std::atomic<int64_t> early_sent_{0};
  std::deque<txn::Txn> logged_;  // logged, waiting for CommitThrough
  std::vector<txn::Txn> committed_;
  int64_t commit_target_ = 0;  // CommitThrough's highest zxid
  bool stop_ = false;
  bool commit_on_log_ = true;
  std::function<void(int64_t)> on_logged_;
  std::atomic<int64_t> logged_through_{0};
  std::atomic<int64_t> committed_through_{0};

  std::atomic<bool> failed_{false};
  std::atomic<int64_t> unknown_through_{0};
  // Latency trace: when the storage thread last woke the core for a group.
  std::atomic<int64_t> woke_at_us_{0};
};

}  // namespace aviary::server
