// The vocabulary of the ZAB state machine (node.h): its configuration, what
// the host restores it from, and the Ready batch of actions it hands back.
//
// Pure data: no I/O, no threads. Everything here is produced or consumed by
// one zab::Node on the host's single consensus thread.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "quorum/messages.h"

namespace aviary::zab {

using quorum::Notification;
using quorum::PacketType;
using quorum::PeerState;
using quorum::QuorumPacket;
using quorum::ServerId;
using quorum::Zxid;

// A quorum-port connection, numbered by the host (never reused in a run).
using ConnId = uint64_t;

struct Member {
  ServerId id = 0;
  bool observer = false;
};

// zoo.cfg's timing (tickTime, initLimit, syncLimit) plus the election's
// notification back-off (FastLeaderElection.finalizeWait /
// maxNotificationInterval) and the bounds on every queue the node holds.
struct Config {
  ServerId self = 0;
  std::vector<Member> members;  // every server.N line, self included
  int64_t tick_ms = 2000;
  int64_t init_limit = 10;  // ticks: discovery + synchronisation
  int64_t sync_limit = 5;   // ticks: a learner silent this long is lost
  int64_t finalize_wait_ms = 200;
  int64_t max_notification_interval_ms = 60000;
  // Learner.connectToLeader's sleep between attempts (ZooKeeper 3.8's
  // zookeeper.leaderConnectDelayDuringRetryMs): a learner whose election
  // ended before its leader's (a ZooKeeper leader listens only once it
  // leads) connects within 100 ms of it.
  int64_t learner_connect_retry_ms = 100;
  // QuorumVerifier text carried in notifications and NEWLEADER (opaque here).
  std::string config_text;
  // Bounds (each with its reason in docs/design/zab.md "Bounds").
  size_t max_outstanding_proposals = 1000;  // leader: proposed, not committed
  size_t max_learner_requests = 10000;      // leader: REQUESTs per Ready
  size_t max_log_index = 1 << 20;           // logged zxids kept for sync decisions
  size_t max_pending_syncs = 1000;          // leader: SYNCs waiting for commits
  size_t max_unacked_proposals = 1 << 20;   // learner (and leader, per learner): not yet ACKed
  // zookeeper.commitLogCount: a learner that missed at most this many txns
  // is synced from the log whatever the size rule says (ZooKeeper's
  // in-memory committed log; Node::SetDiffFloor).
  size_t commit_log_count = 500;
  // A leader's kAppend of its own proposal carries the txn bytes. A host
  // that keeps its own copy of what it proposed (the server logs the txn
  // its core prepared) sets this false: the op then has empty bytes, and
  // the proposal is not copied once more per Propose.
  bool leader_append_bytes = true;
};

// What the host restores at start (from its epoch files, log and snapshot).
struct Bootstrap {
  int64_t accepted_epoch = 0;
  int64_t current_epoch = 0;
  Zxid applied_zxid = 0;     // the host's state machine holds txns <= this
  Zxid log_base = 0;         // the log holds the txns after this zxid ...
  std::vector<Zxid> logged;  // ... these, ascending, each durable
};

enum class Role { kLooking, kFollowing, kLeading, kObserving };
const char* RoleName(Role role);

// One storage action. The host runs them in order, before the Ready's
// messages: kTruncate and kInstallSnapshot are durable when done; kAppend
// may stay buffered until a later kFsync, whose completion the host reports
// with Node::OnFsyncDone(token) (completions in request order).
struct StorageOp {
  enum class Kind { kTruncate, kInstallSnapshot, kAppend, kFsync };
  Kind kind = Kind::kAppend;
  Zxid zxid = 0;       // kTruncate: keep txns <= zxid; kInstallSnapshot: its zxid; kAppend: the txn's
  std::string bytes;   // kAppend: the txn (a leader's own: empty unless Config::leader_append_bytes); kInstallSnapshot:
                       // the snapshot as received
  uint64_t token = 0;  // kFsync
};

// One item on a quorum-port connection, in connection order.
struct Outgoing {
  enum class Kind {
    kPacket,  // send `packet`
    kDiff,    // send PROPOSAL + COMMIT for every logged txn in (from, to], in order
    kSnap,    // send SNAP(zxid = to) and the state applied through `to`
  };
  ConnId conn = 0;
  Kind kind = Kind::kPacket;
  QuorumPacket packet;
  Zxid from = 0;
  Zxid to = 0;
};

struct NotificationOut {
  ServerId to = 0;
  Notification n;
};

// A packet a learner sent the leader that the host handles (REQUEST,
// REVALIDATE, PING session touches), or one the leader sent a learner that
// the host handles (REVALIDATE answer).
struct HostPacket {
  ServerId from = 0;
  ConnId conn = 0;
  QuorumPacket packet;
};

// Everything the node wants done since the last TakeReady. Host order:
// 1. persist accepted_epoch / current_epoch (durably, synchronously);
// 2. run `storage` in order; 3. apply committed txns through
// `commit_through` (a kSnap below serialises that state); 4. send
// `notifications` and `packets`, close `close`, open `connect_leader`.
struct Ready {
  std::optional<int64_t> accepted_epoch;
  std::optional<int64_t> current_epoch;
  std::vector<StorageOp> storage;
  std::vector<NotificationOut> notifications;
  std::vector<Outgoing> packets;
  std::vector<ConnId> close;               // close after sending what precedes
  std::optional<ServerId> connect_leader;  // learner: open a quorum connection
  std::optional<Zxid> commit_through;      // apply logged txns up to this zxid
  std::optional<Role> role;                // new role (each change reported)
  std::vector<HostPacket> to_host;         // REQUEST, REVALIDATE, touches, ...
  int64_t syncs_done = 0;                  // learner: SYNC answers received
  bool empty() const;
  void Clear();  // empty() afterwards; the vectors keep their capacity
};

inline constexpr int64_t kNone = std::numeric_limits<int64_t>::min();

}  // namespace aviary::zab
