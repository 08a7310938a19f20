// Private state records of Core (included only by core*.cc).
#pragma once

#include <climits>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "audit/ops.h"
#include "sasl/sasl_server.h"
#include "server/core.h"
#include "txn/acl.h"

namespace aviary::server {

// Adds the new ids of `out` to `ctx` unless that would pass kMaxAuthIds or
// one of them is over kMaxAuthIdBytes (then `ctx` is unchanged).
bool AddIdentities(txn::SessionCtx& ctx, const txn::AuthOutcome& out);

// (xid, opcode) of a connection's requests awaiting their reply, oldest
// first: the oldest inline, so a connection with one request at a time (an
// idle session's pings) owns no heap block for them; the rest in a vector.
class OpsInFlight {
 public:
  size_t size() const { return first_type_ == kNone ? 0 : 1 + (rest_ ? rest_->size() : 0); }
  void Add(int32_t xid, int32_t type) {
    if (first_type_ == kNone) {
      first_xid_ = xid;
      first_type_ = type;
    } else {
      if (!rest_) rest_ = std::make_unique<std::vector<std::pair<int32_t, int32_t>>>();
      rest_->emplace_back(xid, type);
    }
  }
  // Removes the oldest entry of `xid` into *type; false when there is none.
  bool Take(int32_t xid, int32_t* type) {
    if (first_type_ == kNone) return false;
    if (first_xid_ == xid) {
      *type = first_type_;
      first_type_ = kNone;
      if (rest_ && !rest_->empty()) {
        std::tie(first_xid_, first_type_) = rest_->front();
        rest_->erase(rest_->begin());
      }
      if (rest_ && rest_->empty()) rest_.reset();  // an idle connection keeps no block
      return true;
    }
    if (!rest_) return false;
    for (auto it = rest_->begin(); it != rest_->end(); ++it) {
      if (it->first != xid) continue;
      *type = it->second;
      rest_->erase(it);
      if (rest_->empty()) rest_.reset();
      return true;
    }
    return false;
  }

 private:
  // No opcode is this one (a request claiming it is not tracked: its reply
  // keeps the previous last_op).
  static constexpr int32_t kNone = INT32_MIN;
  int32_t first_xid_ = 0;
  int32_t first_type_ = kNone;
  // The rest, allocated only while there are any (8 bytes in the Conn
  // instead of an empty vector's 24).
  std::unique_ptr<std::vector<std::pair<int32_t, int32_t>>> rest_;
};

// What few connections use, allocated on first use (idle-session memory,
// issue 10: the Conn of an idle session is 184 bytes, one 192-byte chunk).
struct ConnExtras {
  // Its SASL exchange (core_sasl.cc), from the first opcode 102 on.
  std::unique_ptr<sasl::Exchange> sasl;
  // Requests that arrived behind the handshake, run once the session exists
  // (ZooKeeper stops reading the connection until then). Bounded in number
  // (kMaxHeldRequests, and the network's frames in flight) and, with the
  // session queue, in bytes (Conn::queued_bytes); counted in Core::Backlog.
  std::vector<CoreEvent> held;
  // The peer's "ip:port" when it is not ip() + ":" + port (kept as given).
  std::string peer;
  // Parked (Core::ChargeOutput): over kParkOutputBytes of replies in one
  // pass, so its later requests wait in `held`, unanswered and uncredited,
  // until the network reports the replies written (kDrained). A client
  // that pipelines large reads and does not read holds at most about that
  // much of the server's memory, and the pass goes on to other clients.
  bool parked = false;
  bool park_notify = false;   // ask the network for kDrained in this pass's Flush
  bool held_counted = false;  // `held` counts in Core::Backlog (not when held while parked)
};

struct Core::Conn {
  net::ConnId id = 0;
  int64_t session = 0;       // 0 until the handshake completes
  bool handshaking = false;  // createSession proposed, not yet committed
  bool closing = false;      // being closed by the core: nothing more is run or sent
  uint16_t port = 0;         // the peer's port (see peer())
  int32_t last_cxid = -1;    // cons: the last reply's xid, when >= 0 (beside the flags: no padding)
  // The peer's ip: the first identity, ("ip", ip), which OnOpened adds
  // (kept once, not also in a field of its own).
  const std::string& ip() const { return ctx.ids.front().id; }
  // The peer's "ip:port" as the network reported it (built on demand: log
  // lines and admin output only).
  std::string peer() const {
    if (extras && !extras->peer.empty()) return extras->peer;
    return ip() + ":" + std::to_string(port);
  }
  // Sets the port from the network's "ip:port" (ctx.ids holds the ip
  // identity already).
  void SetPeer(const std::string& text) {
    const size_t colon = text.rfind(':');
    unsigned long p = 0;
    if (colon != std::string::npos && colon + 1 < text.size() && colon + 6 >= text.size()) {
      p = std::strtoul(text.c_str() + colon + 1, nullptr, 10);
    }
    port = static_cast<uint16_t>(p <= 65535 ? p : 0);
    if (peer() != text) Extras().peer = text;
  }
  ConnExtras& Extras() {
    if (!extras) extras = std::make_unique<ConnExtras>();
    return *extras;
  }
  // Held requests (empty when none were ever held).
  bool has_held() const { return extras && !extras->held.empty(); }
  bool parked() const { return extras && extras->parked; }
  // Who its requests run as: ids holds the authenticated identities,
  // ("ip", ip) first (bounded: kMaxAuthIds, kMaxAuthIdBytes); session_id is
  // set from `session` by CtxOf.
  txn::SessionCtx ctx;
  std::unique_ptr<ConnExtras> extras;  // null for most connections
  size_t queued_bytes = 0;             // held + waiting in the session queue
  int64_t received = 0;
  int64_t sent = 0;
  int64_t last_latency_us = 0;
  int64_t opened_ms = 0;
  // cons's per-connection figures (ServerCnxn.updateStatsForResponse; crst
  // resets them): core_admin_dump.cc NoteRequestOp / NoteReplyStats.
  const char* last_op = "NA";  // ZooKeeper's short name (GETD, SETD, PING, SESS, ...): a literal
  int64_t last_zxid = -1;
  int64_t last_response_ms = 0;  // steady clock (ZooKeeper: Time.currentElapsedTime)
  int64_t lat_total_us = 0;
  int64_t lat_count = 0;
  // (xid, opcode) of requests awaiting their reply, oldest first; bounded
  // by kMaxOpsInFlight (beyond it a reply keeps the previous last_op).
  OpsInFlight ops_in_flight;
  // This core pass (reset by Flush; the connection is in pass_conns_ while
  // either count is non-zero): frames answered (flow-control credit), bytes
  // queued in out_, and 1 + the index in out_ of its latest reply buffer
  // (0: none), which the credit joins. pass_output saturates at 4 GiB - 1
  // (ChargeOutput), far above any max_output_bytes a server runs with; 32 bits
  // keep the Conn within one 184-byte allocation.
  uint32_t pass_consumed = 0;
  uint32_t pass_tail = 0;
  uint32_t pass_output = 0;
  // cons's min / max latency (see above), 32 bits (NoteReplyStats clamps):
  // beside the pass counts, so that the Conn has no padding.
  int32_t lat_min_us = -1;
  int32_t lat_max_us = 0;
};

// One request waiting in its session's FIFO.
struct Core::Pending {
  net::ConnId conn = 0;
  bool is_write = false;
  // Writes: the zxid this server proposed it with as leader, 0 when it was
  // forwarded. The committed txn is matched by (session, xid == cxid).
  int64_t zxid = 0;
  proto::Request request;  // writes: header only; non-writes: executed at the head
  proto::Err decode_err = proto::Err::kOk;
  int64_t received_us = 0;
  size_t bytes = 0;  // charged to the connection's queued_bytes
  // A learner's sync(), forwarded to the leader: it waits in the queue like
  // a write (is_write) until the leader's SYNC arrives (sync_done), then is
  // answered when it reaches the head.
  bool is_sync = false;
  bool sync_done = false;
  // A local session's closeSession, answered here once it reaches the head.
  bool local_close = false;
  // A write whose reply the committer sends once it is durable
  // (Committer::ProposeWithReply): the core only accounts for it.
  bool early = false;
  // A local session's ephemeral create refused (upgrading off): when its txn
  // is an error txn, the reply carries this error (EPHEMERALONLOCALSESSION)
  // instead of the leader's (ZooKeeper's FinalRequestProcessor).
  proto::Err local_err = proto::Err::kOk;
  // Audited writes (audit.enable): what the audit line needs of the request.
  std::shared_ptr<const audit::WriteNote> audit;
  // May leave the queue now (reads, and syncs the leader has answered)?
  bool Runnable() const { return !is_write || (is_sync && sync_done); }
};

// A session's FIFO of waiting requests: a vector and a head index, so that
// a session that never waits owns no memory (std::deque allocates ~600
// bytes up front) and one that does reuses its storage; emptied, it keeps at
// most kKeep slots (idle sessions stay small) and hands larger storage to
// the core's spares (QueueSpares), which the next queue to fill takes back:
// busy sessions that empty their queue every pass allocate nothing.
class Core::PendingQueue {
 public:
  using Item = Core::Pending;
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  Item& front() { return items_[head_]; }
  const Item& front() const { return items_[head_]; }
  std::vector<Item>::iterator begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  std::vector<Item>::iterator end() { return items_.end(); }
  void push_back(Item&& p, QueueSpares* spares = nullptr) { emplace_back(spares) = std::move(p); }
  // A default Item at the back, for the caller to fill in place.
  Item& emplace_back(QueueSpares* spares = nullptr);
  // Drops the head. Its slot is not reset: what it still holds is let go
  // when the queue empties or compacts (both bounded by the queue's size).
  void pop_front(QueueSpares* spares = nullptr);

 private:
  static constexpr size_t kKeep = 4;
  void Compact() {
    items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  std::vector<Item> items_;
  size_t head_ = 0;
};

// Emptied queue storage kept for reuse (core thread): at most kMax buffers
// of at most kMaxSlots slots each, so what it holds stays bounded.
struct Core::QueueSpares {
  static constexpr size_t kMax = 64;
  static constexpr size_t kMaxSlots = 64;
  std::vector<std::vector<Pending>> buffers;
};

inline Core::PendingQueue::Item& Core::PendingQueue::emplace_back(QueueSpares* spares) {
  if (items_.capacity() <= kKeep && items_.empty() && spares != nullptr && !spares->buffers.empty()) {
    items_.swap(spares->buffers.back());
    spares->buffers.pop_back();
  }
  return items_.emplace_back();
}

inline void Core::PendingQueue::pop_front(QueueSpares* spares) {
  if (++head_ < items_.size()) {
    if (head_ >= 64 && 2 * head_ >= items_.size()) Compact();
    return;
  }
  head_ = 0;
  items_.clear();
  if (items_.capacity() <= kKeep) return;
  if (spares != nullptr && spares->buffers.size() < QueueSpares::kMax && items_.capacity() <= QueueSpares::kMaxSlots) {
    spares->buffers.push_back(std::move(items_));
  }
  std::vector<Item>().swap(items_);
}

struct Core::Session {
  int64_t id = 0;
  net::ConnId conn = 0;  // current connection, 0 if disconnected
  bool closing = false;  // closeSession or expiry proposed: later requests get SESSIONEXPIRED
  // Entries of `queue` that are writes answered early (Pending::early).
  uint32_t early_queued = 0;
  PendingQueue queue;
};

// A createSession of this server's, proposed (or forwarded), not yet applied.
struct Core::PendingCreate {
  net::ConnId conn = 0;
  int32_t timeout_ms = 0;
  int64_t received_us = 0;
  bool has_read_only = true;  // answer in the client's handshake format
};

// A learner's re-attach waiting for the leader's answer to its REVALIDATE.
struct Core::PendingRevalidation {
  net::ConnId conn = 0;
  int32_t timeout_ms = 0;
  bool has_read_only = true;
  int64_t deadline_ms = 0;  // steady: then the connection is closed
};

// REVALIDATEs a learner has outstanding at most; past it, a re-attach that
// needs one closes its connection (the client tries again).
inline constexpr size_t kMaxRevalidations = 10000;

// Requests a connection may send behind its handshake before it is dropped.
inline constexpr size_t kMaxHeldRequests = 1000;
// Replies to one connection in one pass past which it is parked (ConnExtras::parked;
// half of max_output_bytes when that is lower, so that parking comes first).
inline constexpr size_t kParkOutputBytes = 4u << 20;

}  // namespace aviary::server
