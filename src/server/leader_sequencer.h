// LeaderSequencer: the sequencer of a leader or a standalone server (see
// sequencer.h). Owns the Preparer (and its overlay of prepared, not yet
// applied txns) and the zxid counter: zxids are (epoch << 32) | counter,
// handed out once, in proposal order. Proposes every txn to the Committer.
// Expires sessions through the shared SessionTracker and sweeps container /
// TTL nodes every container_check_interval_ms.
//
// Local sessions (localSessionsEnabled, EnableLocalSessions): the Core's
// sessions that live only on this member are in the tracker too; their
// expiry is handed back (TakeExpiredLocal), never proposed. A forwarded
// request of a session this leader does not know is run when local sessions
// are on and the id's server byte is another member's (its local session,
// ZooKeeper's LeaderSessionTracker.checkSession); an ephemeral create then
// fails with SESSIONEXPIRED unless the session is global (tracked and not
// local, or its createSession is prepared: an upgrade in flight).
//
// Threads: the core thread only. The tree and the session tracker are the
// Core's (read here; the tracker's expired sessions are popped here).
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/committer.h"
#include "server/sequencer.h"
#include "session/session_tracker.h"
#include "tree/data_tree.h"
#include "txn/prepare.h"

namespace aviary::server {

class LeaderSequencer final : public Sequencer {
 public:
  LeaderSequencer(const tree::DataTree& tree, session::SessionTracker* sessions, Committer* committer,
                  txn::PrepareOptions prepare, int64_t container_check_interval_ms, int64_t now_ms);

  int64_t Write(const WriteRequest& w, int64_t wall_ms) override;
  void CreateSession(int64_t session_id, int32_t timeout_ms, int64_t wall_ms) override;
  void Forwarded(const ForwardedRequest& r, int64_t wall_ms) override;
  std::vector<int64_t> Tick(int64_t now_ms, int64_t wall_ms) override;
  std::vector<int64_t> TakeExpiredLocal() override;
  void Applied(int64_t zxid) override;
  void Reset(int64_t applied_zxid) override;
  int64_t last_proposed() const override { return last_zxid_; }

  // A new epoch (ZAB: after the leader is established): the next zxid is
  // (epoch << 32) | 1. Only while nothing is pending (after Reset).
  void SetEpoch(int64_t epoch);
  int64_t epoch() const { return last_zxid_ >> 32; }
  size_t pending_records() const { return preparer_.PendingRecords(); }
  // localSessionsEnabled on the member `server_id`; `local` (not owned,
  // outlives this) holds the ids of this member's local sessions.
  void EnableLocalSessions(int64_t server_id, const std::unordered_set<int64_t>* local) {
    server_id_ = server_id;
    local_ = local;
  }

 private:
  // `req` prepared as session `ctx` would run it (decode_err: an error txn).
  txn::Txn PrepareWrite(proto::Request& req, proto::Err decode_err, const txn::SessionCtx& ctx, int64_t zxid,
                        int64_t wall_ms);
  void ExpireSessions(int64_t now_ms, int64_t wall_ms, std::vector<int64_t>* expired);
  void CheckContainers(int64_t wall_ms);
  // The session check of a forwarded request: kOk or kSessionExpired;
  // *global: whether its ephemeral creates may run.
  proto::Err CheckForwardedSession(int64_t session_id, bool* global) const;
  bool IsLocal(int64_t session_id) const { return local_ != nullptr && local_->count(session_id) != 0; }
  int64_t NextZxid() { return ++last_zxid_; }

  const tree::DataTree& tree_;
  session::SessionTracker* sessions_;
  Committer* committer_;
  txn::Preparer preparer_;
  int64_t last_zxid_ = 0;  // the last zxid handed out
  int64_t container_check_interval_ms_;
  int64_t last_container_check_ms_;
  // Local sessions: off while local_ is null.
  int64_t server_id_ = 0;
  const std::unordered_set<int64_t>* local_ = nullptr;
  std::vector<int64_t> expired_local_;
  std::string reply_scratch_;  // an early reply being encoded (Write)
  // Sessions whose createSession is prepared, not yet applied -> its zxid;
  // and (zxid, session) in zxid order, to forget them as they apply.
  std::unordered_map<int64_t, int64_t> creating_;
  std::deque<std::pair<int64_t, int64_t>> creating_order_;
};

}  // namespace aviary::server
