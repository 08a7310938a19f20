#include "server/leader_sequencer.h"

#include <algorithm>

#include "base/check.h"
#include "base/log.h"
#include "proto/codec.h"
#include "proto/jute.h"

namespace aviary::server {

using proto::Err;
using proto::OpCode;

namespace {

txn::Txn ErrorTxnFor(int64_t session, int64_t zxid, int64_t now, Err err) {
  txn::Txn t;
  t.session_id = session;
  t.zxid = zxid;
  t.time_ms = now;
  t.type = OpCode::kError;
  t.op.type = OpCode::kError;
  t.op.body = txn::ErrorTxn{err};
  return t;
}

}  // namespace

LeaderSequencer::LeaderSequencer(const tree::DataTree& tree, session::SessionTracker* sessions, Committer* committer,
                                 txn::PrepareOptions prepare, int64_t container_check_interval_ms, int64_t now_ms)
    : tree_(tree),
      sessions_(sessions),
      committer_(committer),
      preparer_(tree, std::move(prepare)),
      container_check_interval_ms_(container_check_interval_ms),
      last_container_check_ms_(now_ms) {}

txn::Txn LeaderSequencer::PrepareWrite(proto::Request& req, Err decode_err, const txn::SessionCtx& ctx, int64_t zxid,
                                       int64_t wall_ms) {
  const int64_t session = ctx.session_id;
  if (decode_err != Err::kOk) return ErrorTxnFor(session, zxid, wall_ms, decode_err);
  switch (req.op()) {
    case OpCode::kCloseSession:
      return preparer_.PrepareCloseSession(session, zxid, wall_ms);
    case OpCode::kReconfig:
      // Dynamic reconfiguration is disabled, as ZooKeeper without
      // reconfigEnabled: the request becomes an error txn.
      return ErrorTxnFor(session, zxid, wall_ms, Err::kReconfigDisabled);
    case OpCode::kCreateSession:
      // A client-sent createSession has no valid body for ZooKeeper.
      return ErrorTxnFor(session, zxid, wall_ms, Err::kMarshallingError);
    case OpCode::kDeleteContainer:
      // Only the server's container sweep may delete containers. A client's
      // request never deletes anything: ZooKeeper 3.8 reads its path from
      // the whole packet, header included, so it always fails validation
      // with BADARGUMENTS (3.9 would run it with no ACL check at all).
      return ErrorTxnFor(session, zxid, wall_ms, Err::kBadArguments);
    default:
      return preparer_.Prepare(std::move(req), ctx, zxid, wall_ms);
  }
}

int64_t LeaderSequencer::Write(const WriteRequest& w, int64_t wall_ms) {
  const int64_t zxid = NextZxid();
  txn::Txn t = PrepareWrite(*w.request, w.decode_err, *w.ctx, zxid, wall_ms);
  t.session_id = w.session_id;
  t.cxid = w.request->header.xid;
  // A setData's reply is its node's Stat once applied, which the pending
  // changes already hold: the committer may send it once the txn is durable.
  if (w.early_conn != 0 && t.type == OpCode::kSetData && committer_->early_replies()) {
    const auto* set = std::get_if<txn::SetDataTxn>(&t.op.body);
    std::optional<proto::Stat> stat = set != nullptr ? preparer_.StatAfterPrepared(set->path) : std::nullopt;
    if (stat) {
      reply_scratch_.clear();
      proto::EncodeReply(proto::ReplyHeader{t.cxid, zxid, 0}, proto::StatResponse{*stat}, &reply_scratch_);
      if (reply_scratch_.size() <= EarlyReply::kMaxBytes) {
        EarlyReply r;
        r.conn = w.early_conn;
        r.size = static_cast<uint32_t>(reply_scratch_.size());
        std::copy(reply_scratch_.begin(), reply_scratch_.end(), r.bytes.begin());
        committer_->ProposeWithReply(std::move(t), r);
        if (w.early_reply != nullptr) *w.early_reply = true;
        return zxid;
      }
    }
  }
  committer_->Propose(std::move(t));
  return zxid;
}

void LeaderSequencer::CreateSession(int64_t session_id, int32_t timeout_ms, int64_t wall_ms) {
  const int64_t zxid = NextZxid();
  creating_[session_id] = zxid;
  creating_order_.emplace_back(zxid, session_id);
  committer_->Propose(preparer_.PrepareCreateSession(session_id, timeout_ms, zxid, wall_ms));
}

void LeaderSequencer::Applied(int64_t zxid) {
  preparer_.Applied(zxid);
  while (!creating_order_.empty() && creating_order_.front().first <= zxid) {
    auto it = creating_.find(creating_order_.front().second);
    if (it != creating_.end() && it->second == creating_order_.front().first) creating_.erase(it);
    creating_order_.pop_front();
  }
}

Err LeaderSequencer::CheckForwardedSession(int64_t session_id, bool* global) const {
  const session::Session* s = sessions_->Find(session_id);
  *global = creating_.count(session_id) != 0 || (s != nullptr && !IsLocal(session_id));
  if (s != nullptr) return s->closing ? Err::kSessionExpired : Err::kOk;
  if (*global) return Err::kOk;
  // Unknown here: another member's local session, or (our own server byte,
  // or local sessions off) one that is gone.
  const bool foreign_local = local_ != nullptr && (session_id >> 56) != server_id_;
  return foreign_local ? Err::kOk : Err::kSessionExpired;
}

void LeaderSequencer::Forwarded(const ForwardedRequest& r, int64_t wall_ms) {
  if (r.type == static_cast<int32_t>(OpCode::kCreateSession)) {
    // The body is the negotiated timeout (int32), as ZooKeeper's learners send it.
    proto::jute::Reader in(r.body);
    const int32_t timeout_ms = in.ReadInt32();
    if (!in.ok() || timeout_ms <= 0) {
      AV_LOG(kWarn, "dropping forwarded createSession {:#x}: bad timeout", r.session_id);
      return;
    }
    CreateSession(r.session_id, timeout_ms, wall_ms);
    return;
  }
  // Decode the body as this server's own network thread would.
  std::string payload;
  proto::jute::Writer out(&payload);
  out.WriteInt32(r.cxid);
  out.WriteInt32(r.type);
  payload += r.body;
  proto::Request req;
  Err err = proto::DecodeRequest(payload, &req);
  // The session check: requests of a closing or unknown session fail (they
  // still take a zxid, as on the server the session is connected to).
  bool global = false;
  const Err session_err = CheckForwardedSession(r.session_id, &global);
  if (session_err != Err::kOk) err = session_err;
  req.header = proto::RequestHeader{r.cxid, r.type};
  txn::SessionCtx ctx;
  ctx.session_id = r.session_id;
  if (!global) ctx.ephemeral_err = Err::kSessionExpired;  // checkGlobalSession
  ctx.ids = r.auth_ids;
  ctx.is_super = std::any_of(ctx.ids.begin(), ctx.ids.end(), [](const proto::Id& id) { return id.scheme == "super"; });
  if (err == Err::kOk && req.op() == OpCode::kCloseSession) sessions_->SetClosing(r.session_id);
  WriteRequest w;
  w.session_id = r.session_id;
  w.request = &req;
  w.decode_err = err;
  w.ctx = &ctx;
  Write(w, wall_ms);
}

void LeaderSequencer::ExpireSessions(int64_t now_ms, int64_t wall_ms, std::vector<int64_t>* expired) {
  for (int64_t id : sessions_->PopExpired(now_ms)) {
    if (IsLocal(id)) {
      expired_local_.push_back(id);  // closed by the Core, no txn
      continue;
    }
    const session::Session* rec = sessions_->Find(id);
    AV_LOG(kInfo, "Expiring session {:#x}, timeout of {} ms exceeded", id, rec != nullptr ? rec->timeout_ms : 0);
    committer_->Propose(preparer_.PrepareCloseSession(id, NextZxid(), wall_ms));
    expired->push_back(id);
  }
}

void LeaderSequencer::CheckContainers(int64_t wall_ms) {
  for (const std::string& path : tree_.CleanupCandidates(wall_ms)) {
    committer_->Propose(preparer_.PrepareDeleteContainer(path, NextZxid(), wall_ms));
  }
}

std::vector<int64_t> LeaderSequencer::Tick(int64_t now_ms, int64_t wall_ms) {
  std::vector<int64_t> expired;
  ExpireSessions(now_ms, wall_ms, &expired);
  if (now_ms - last_container_check_ms_ >= container_check_interval_ms_) {
    last_container_check_ms_ = now_ms;
    CheckContainers(wall_ms);
  }
  return expired;
}

std::vector<int64_t> LeaderSequencer::TakeExpiredLocal() {
  std::vector<int64_t> out;
  out.swap(expired_local_);
  return out;
}

void LeaderSequencer::Reset(int64_t applied_zxid) {
  preparer_.Reset();
  creating_.clear();
  creating_order_.clear();
  last_zxid_ = applied_zxid;
}

void LeaderSequencer::SetEpoch(int64_t epoch) {
  AV_CHECK(preparer_.PendingRecords() == 0, "new epoch {} while {} prepared changes are pending", epoch,
           preparer_.PendingRecords());
  last_zxid_ = epoch << 32;
}

}  // namespace aviary::server
