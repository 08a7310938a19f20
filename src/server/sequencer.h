// Sequencer: the role-dependent half of the write pipeline, between Core
// (connections, per-session FIFOs, watches, replies: the same in every role)
// and the Committer.
//
//   leader / standalone (LeaderSequencer): prepares each write against the
//     tree plus the overlay of txns not yet applied, assigns its zxid
//     (epoch << 32 | counter), proposes it to the Committer; expires
//     sessions and sweeps containers / TTL nodes into txns; prepares the
//     requests other servers forward to it;
//   follower / observer (FollowerSequencer): forwards each write, session
//     creation and close to the leader through a Forwarder (ZAB: REQUEST
//     packets); remembers session touches for the leader (ZAB: PING);
//     never expires anything itself.
//
// Either way the txns come back committed through the Committer, in zxid
// order, and Core applies them (txn::StateMachine) and matches them to its
// waiting writes by (session id, cxid), so txns of other servers' sessions
// are simply applied and fire watches.
//
// Threads: every method runs on the core thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/records.h"
#include "txn/txn.h"

namespace aviary::server {

// A write of a session of this server, as Core hands it over.
struct WriteRequest {
  int64_t session_id = 0;
  // Header (cxid = xid, type) and decoded body. A leader's sequencer moves
  // the body's strings into the txn it prepares (no copy per write): after
  // Write the caller may use only the header.
  proto::Request* request = nullptr;
  // kOk, or why the request cannot run (a body that did not decode, or
  // kSessionExpired once the session's close is under way): it becomes an
  // error txn that still takes a zxid.
  proto::Err decode_err = proto::Err::kOk;
  // Non-null iff the body did not decode: its bytes as received.
  const std::string* raw_body = nullptr;
  const txn::SessionCtx* ctx = nullptr;  // session id and auth ids the request runs as
  // Non-zero: the connection (net::ConnId) may get the reply early, from the
  // committer, once the txn is durable (Committer::ProposeWithReply; the
  // core decides when the connection's order allows it). Set *early_reply
  // when that is how the reply goes (a leader, a setData that prepared).
  uint64_t early_conn = 0;
  bool* early_reply = nullptr;
};

// A write as it travels from a follower to the leader (ZooKeeper's Request
// in a REQUEST QuorumPacket): session, cxid, type, the jute body bytes as
// the client sent them, and the session's auth ids.
struct ForwardedRequest {
  int64_t session_id = 0;
  int32_t cxid = 0;
  int32_t type = 0;  // proto::OpCode
  std::string body;
  std::vector<proto::Id> auth_ids;
  uint64_t learner_conn = 0;  // leader: the quorum connection it came in on
};

// Where a follower sends its writes (the ZAB layer implements it).
class Forwarder {
 public:
  virtual ~Forwarder() = default;
  virtual void Forward(ForwardedRequest request) = 0;
  // Ask the leader whether `session_id` is still valid (ZAB: REVALIDATE);
  // the answer comes back through Core::OnRevalidateReply.
  virtual void Revalidate(int64_t /*session_id*/, int32_t /*timeout_ms*/) {}
  // Leader: a learner's forwarded sync() reached the core, after the writes
  // forwarded before it were proposed: ZAB answers that learner with SYNC
  // once everything proposed so far has committed.
  virtual void AnswerLearnerSync(uint64_t /*learner_conn*/) {}
};

class Sequencer {
 public:
  virtual ~Sequencer() = default;
  // A client write. Returns the zxid it was proposed with (leader), or 0
  // when it was forwarded (the committed txn is matched by session + cxid).
  virtual int64_t Write(const WriteRequest& w, int64_t wall_ms) = 0;
  // A new session of this server (Core chose the id, checked the limit).
  virtual void CreateSession(int64_t session_id, int32_t timeout_ms, int64_t wall_ms) = 0;
  // A request forwarded by another server (leader only; a follower drops it).
  virtual void Forwarded(const ForwardedRequest& r, int64_t wall_ms) = 0;
  // Periodic work at steady time now_ms: the leader proposes closeSession
  // for every expired session and deleteContainer for every container / TTL
  // candidate. Returns the sessions whose expiry was proposed.
  virtual std::vector<int64_t> Tick(int64_t now_ms, int64_t wall_ms) = 0;
  // Local sessions (localSessionsEnabled) the last Tick found expired: the
  // leader proposes nothing for them; Core closes them here.
  virtual std::vector<int64_t> TakeExpiredLocal() { return {}; }
  // Session activity seen by this server (a follower reports it to the leader).
  virtual void Touched(int64_t /*session_id*/) {}
  // Core applied the committed txns up to `zxid`.
  virtual void Applied(int64_t zxid) = 0;
  // The commit stage failed or the role changes: forget every pending
  // change; the next zxid follows `applied_zxid`.
  virtual void Reset(int64_t applied_zxid) = 0;
  // The last zxid handed out (leader) or 0.
  virtual int64_t last_proposed() const = 0;
};

}  // namespace aviary::server
