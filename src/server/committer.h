// The commit stage of the write pipeline: prepare -> [commit] -> apply.
//
// The core thread proposes each prepared txn in zxid order; the committer
// makes it durable / replicated and hands committed txns back, in the same
// order, through TakeCommitted (called by the core thread after `wake` fires).
//
// "Logged" and "committed" are two facts: a txn is logged once this
// server's log holds it durably (a follower then ACKs the proposal), and
// committed once it may be applied (standalone: the moment it is logged;
// a follower: when the leader's COMMIT arrives, which may be later).
// LoggedThrough / CommittedThrough report both.
// Standalone without a log is an ensemble of one whose quorum is reached the
// moment the txn is proposed (LocalCommitter); the write-ahead log and ZAB
// replace this class without touching prepare or apply.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "txn/txn.h"

namespace aviary::server {

// A write's reply, encoded (length prefix included) when it was prepared,
// for a committer that sends it the moment the txn is durable (early
// replies: DurableCommitter). Only replies of a fixed, small size: a
// setData's (header + Stat, 88 bytes).
struct EarlyReply {
  static constexpr size_t kMaxBytes = 96;
  uint64_t conn = 0;  // net::ConnId
  uint32_t size = 0;  // 0: none
  std::array<char, kMaxBytes> bytes{};
  std::string_view view() const { return {bytes.data(), size}; }
};

class Committer {
 public:
  virtual ~Committer() = default;
  // Core thread. Txns arrive with strictly increasing zxids.
  virtual void Propose(txn::Txn txn) = 0;
  // Core thread: true when ProposeWithReply sends replies itself.
  virtual bool early_replies() const { return false; }
  // Core thread, as Propose; `reply` is the txn's reply. A committer with
  // early_replies() hands it to the network once the txn is durable, before
  // the txn is handed back (TakeCommitted) with `replied` set; otherwise it
  // is dropped and the core answers as for any txn.
  virtual void ProposeWithReply(txn::Txn txn, const EarlyReply& /*reply*/) { Propose(std::move(txn)); }
  // Core thread. Appends the txns committed since the last call, in order.
  virtual void TakeCommitted(std::vector<txn::Txn>* out) = 0;
  // Core thread, at the end of every pass (before it takes what is
  // committed): the txns proposed in the pass are submitted together (a
  // committer may hold them until then). `core_idle`: no input waits for
  // the core, so a committer may make them durable on the calling thread
  // now (no hand-off to its own thread and back while the log is idle);
  // TakeCommitted then returns them at once. True when it did so.
  virtual bool EndOfPass(bool /*core_idle*/) { return false; }
  // Core thread: false when nothing was proposed since the last EndOfPass,
  // so the core may skip EndOfPass (and finding out whether it is idle).
  // The default answers "maybe".
  virtual bool HasPassProposals() const { return true; }
  // True when writes cannot currently be accepted (e.g. storage failure).
  virtual bool ReadOnly() const { return false; }
  // Once ReadOnly(): txns proposed but never handed back with a zxid up to
  // this one may still be in the log (their outcome is unknown); later ones
  // certainly are not.
  virtual int64_t UnknownThrough() const { return 0; }
  // Start a new log segment at `next_zxid` after everything proposed so far
  // (at each snapshot, as ZooKeeper). No-op without a log.
  virtual void RequestRoll(int64_t /*next_zxid*/) {}
  // Any thread: the highest zxid logged durably / committed (handed back,
  // not necessarily taken yet; with early replies, handed back once its
  // reply went out: CommittedThrough moves first); 0 before the first (and
  // from committers that do not report it: test doubles).
  virtual int64_t LoggedThrough() const { return 0; }
  virtual int64_t CommittedThrough() const { return 0; }
};

// In-memory commit: a proposal is committed at once. Because the core drains
// commits only after a whole batch of requests has been prepared, several
// txns are routinely prepared ahead of their apply, exercising the same
// pending-change path replication needs.
// Logged (in memory) and committed are the same moment here. Core thread
// only.
class LocalCommitter final : public Committer {
 public:
  void Propose(txn::Txn txn) override {
    last_ = txn.zxid;
    committed_.push_back(std::move(txn));
  }
  void TakeCommitted(std::vector<txn::Txn>* out) override {
    for (auto& t : committed_) out->push_back(std::move(t));
    committed_.clear();
  }
  int64_t LoggedThrough() const override { return last_; }
  int64_t CommittedThrough() const override { return last_; }

 private:
  std::vector<txn::Txn> committed_;
  int64_t last_ = 0;
};

}  // namespace aviary::server
