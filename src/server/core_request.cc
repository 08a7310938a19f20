// Client requests on the core thread: writes are prepared into txns and
// proposed; everything else (reads, ping, sync, watch management) runs when
// it reaches the head of its session's FIFO. Committed txns are applied here,
// their watch events fired, and the waiting writes answered.
#include <algorithm>
#include <unordered_set>

#include "base/check.h"
#include "base/log.h"
#include "metrics/server_metrics.h"
#include "server/core_state.h"
#include "txn/acl.h"
#include "txn/read.h"

namespace aviary::server {

using proto::Err;
using proto::OpCode;

bool AddIdentities(txn::SessionCtx& ctx, const txn::AuthOutcome& out) {
  std::vector<const proto::Id*> fresh;
  for (const proto::Id& id : out.ids) {
    if (id.scheme.size() + id.id.size() > kMaxAuthIdBytes) return false;
    if (std::find(ctx.ids.begin(), ctx.ids.end(), id) == ctx.ids.end()) fresh.push_back(&id);
  }
  if (ctx.ids.size() + fresh.size() > kMaxAuthIds) return false;
  for (const proto::Id* id : fresh) ctx.ids.push_back(*id);
  if (out.is_super) ctx.is_super = true;
  return true;
}

bool Core::IsWrite(OpCode op) const {
  switch (op) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
    case OpCode::kDelete:
    case OpCode::kSetData:
    case OpCode::kSetAcl:
    case OpCode::kCheck:
    case OpCode::kMulti:
    case OpCode::kReconfig:
    case OpCode::kCloseSession:
    case OpCode::kDeleteContainer:  // internal ops a client may still send:
    case OpCode::kCreateSession:    // ZooKeeper runs them as txns too
      return true;
    default:
      return false;
  }
}

void Core::CloseConn(Conn& c) {
  c.closing = true;
  outbox_->CloseNow(c.id);
}

const txn::SessionCtx& Core::CtxOf(Conn& c) {
  c.ctx.session_id = c.session;
  return c.ctx;
}

bool Core::ChargeQueued(Conn& c, size_t bytes) {
  const size_t cap = std::max(opts_.max_queued_bytes_per_conn, 2 * (static_cast<size_t>(opts_.max_buffer) + 4));
  if (c.queued_bytes + bytes > cap) {
    AV_LOG(kWarn, "closing {}: more than {} bytes of requests waiting", c.peer(), cap);
    CloseConn(c);
    return false;
  }
  c.queued_bytes += bytes;
  return true;
}

void Core::Hold(Conn& c, CoreEvent&& ev) {
  if (c.has_held() && c.extras->held.size() >= kMaxHeldRequests) {
    AV_LOG(kWarn, "closing {}: more than {} requests held (behind the handshake or a parked connection)", c.peer(),
           kMaxHeldRequests);
    CloseConn(c);
    return;
  }
  if (!ChargeQueued(c, ev.bytes)) return;
  ConnExtras& x = c.Extras();
  // A parked connection's requests wait for its own client to read, so
  // they do not count towards globalOutstandingLimit (Backlog), which
  // would stop reading every connection.
  if (x.held.empty()) x.held_counted = !x.parked;
  x.held.push_back(std::move(ev));
  if (x.held_counted) held_total_.fetch_add(1, std::memory_order_relaxed);
}

void Core::DropHeld(Conn& c) {
  if (!c.has_held()) return;
  std::vector<CoreEvent>& held = c.extras->held;
  for (const CoreEvent& ev : held) c.queued_bytes -= ev.bytes;
  if (c.extras->held_counted) held_total_.fetch_sub(static_cast<int64_t>(held.size()), std::memory_order_relaxed);
  std::vector<CoreEvent>().swap(held);
}

void Core::ReleaseHeld(Conn& c, int64_t now_ms) {
  if (!c.has_held()) return;
  std::vector<CoreEvent> held = std::move(c.extras->held);
  std::vector<CoreEvent>().swap(c.extras->held);
  net::ConnId id = c.id;
  for (const CoreEvent& ev : held) c.queued_bytes -= ev.bytes;
  if (c.extras->held_counted) held_total_.fetch_sub(static_cast<int64_t>(held.size()), std::memory_order_relaxed);
  for (auto& ev : held) {
    if (!conns_.count(id)) return;
    OnRequest(ev, now_ms);
  }
}

void Core::OnDrained(net::ConnId conn, int64_t now_ms) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second->parked()) return;
  it->second->extras->parked = false;
  ReleaseHeld(*it->second, now_ms);  // in order; may park it again part way
}

void Core::OnRequest(CoreEvent& ev, int64_t now_ms) {
  auto it = conns_.find(ev.conn);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (c.closing) return;  // what a closing connection still sent is dropped
  if ((c.session == 0 && c.handshaking) || c.parked()) {
    Hold(c, std::move(ev));
    return;
  }
  ++packets_received_;
  ++c.received;
  metrics::Server().bytes_received_count.Add(static_cast<int64_t>(ev.bytes));
  NoteRequestOp(c, ev.request.header);
  if (c.session == 0) {
    // A request before the handshake finished (or after the session closed).
    AV_LOG(kWarn, "closing {}: request before session establishment", c.peer());
    CloseConn(c);
    return;
  }
  sessions_.Touch(c.session, now_ms);
  sequencer_->Touched(c.session);
  proto::Request& req = ev.request;
  const bool decoded = ev.decode_err == Err::kOk;
  if (ev.decode_err == Err::kOk && req.op() == OpCode::kAuth) {
    Credit(c);
    OnAuth(c, req);
    return;
  }
  if (ev.decode_err == Err::kOk && req.op() == OpCode::kSasl) {
    Credit(c);
    OnSasl(c, req, ev.received_us);
    return;
  }
  if (!EnforceAuth(c, req)) {
    Credit(c);
    return;
  }
  auto sit = session_state_.find(c.session);
  AV_CHECK(sit != session_state_.end(), "connection {} is attached to session {:#x}, which has no state", c.peer(),
           c.session);
  Session& s = sit->second;
  // Once its close is under way, a session's requests fail as ZooKeeper's
  // session check makes them fail; its writes still take a zxid.
  if (s.closing) ev.decode_err = Err::kSessionExpired;
  if (role_.load(std::memory_order_relaxed) == ServingRole::kReadOnly) {
    // Read-only mode (core_read_only.cc): no write is proposed.
    if (FilterReadOnly(c, s, ev)) return;
  } else if (IsWrite(req.op()) && committer_->ReadOnly()) {
    // The log failed: no write can be made durable, so none is taken. The
    // error goes out in FIFO order like a read's reply.
    if (ev.decode_err == Err::kOk) ev.decode_err = Err::kNotReadOnly;
  } else if (IsWrite(req.op())) {
    // A local session's close stays here; its ephemeral creates need a
    // global session (core_local_session.cc).
    const bool local = local_sessions_.count(s.id) != 0;
    Err local_err = Err::kOk;
    if (local && ev.decode_err == Err::kOk && LocalSessionWrite(s, c, ev, &local_err)) return;
    if (!(local && s.closing)) {
      // A write whose body does not decode still takes a zxid, as an error
      // txn, exactly as ZooKeeper numbers it.
      if (ChargeQueued(c, ev.bytes)) ProposeWrite(s, c, ev, decoded ? nullptr : &ev.raw_body, local_err);
      return;
    }
    // A write after a local session's close: SESSIONEXPIRED here, in order
    // (the leader, which does not know the session, would run it).
  }
  // A learner's sync() goes through the leader (core_learner.cc); with early
  // replies a standalone one waits for what is committed to be applied.
  if (ev.decode_err == Err::kOk && req.op() == OpCode::kSync && (ForwardSync(s, c, ev) || HoldSync(s, c, ev))) return;
  if (s.queue.empty()) {
    Credit(c);
    RunNonTxn(c, req, ev.decode_err, ev.received_us);
    return;
  }
  if (!ChargeQueued(c, ev.bytes)) return;
  // Behind a write of its session (most reads under a mixed load at depth):
  // built in its queue slot, the request's body moved in (no copy).
  Pending& p = EnqueueNew(s);
  p.conn = c.id;
  p.request = std::move(req);
  p.decode_err = ev.decode_err;
  p.received_us = ev.received_us;
  p.bytes = ev.bytes;
}

bool Core::HoldSync(Session& s, Conn& c, CoreEvent& ev) {
  // A client may have seen the reply of any txn committed so far (early
  // replies go out before the core applies them): its sync() is answered
  // once all of them are applied, so that reads after it see them.
  if (follower_ != nullptr || !committer_->early_replies()) return false;
  const int64_t target = committer_->CommittedThrough();
  if (target <= applied_zxid_) return false;
  if (!ChargeQueued(c, ev.bytes)) return true;  // closing
  Pending& p = EnqueueNew(s);
  p.conn = c.id;
  p.is_write = true;  // later requests of the session wait behind it
  p.is_sync = true;
  p.request = std::move(ev.request);
  p.received_us = ev.received_us;
  p.bytes = ev.bytes;
  held_syncs_.push_back(HeldSync{target, s.id, p.request.header.xid});
  return true;
}

void Core::ReleaseHeldSyncs() {
  while (!held_syncs_.empty() && held_syncs_.front().target <= applied_zxid_) {
    const HeldSync h = held_syncs_.front();
    held_syncs_.pop_front();
    OnSyncDone(h.session, h.xid);
  }
}

void Core::OnAuth(Conn& c, const proto::Request& req) {
  const auto& a = std::get<proto::AuthPacket>(req.body);
  txn::AuthOutcome out = txn::Authenticate(a.scheme, a.auth, opts_.super_digest);
  // As ZooKeeper: the reply echoes the request's xid (clients send -4, but
  // some match replies by xid) with zxid 0.
  proto::ReplyHeader hdr{req.header.xid, 0, static_cast<int32_t>(out.err)};
  if (out.err == Err::kOk && !AddIdentities(c.ctx, out)) {
    AV_LOG(kWarn, "refusing addauth from {}: over {} identities or an id over {} bytes", c.peer(), kMaxAuthIds,
           kMaxAuthIdBytes);
    hdr.err = static_cast<int32_t>(Err::kAuthFailed);
  }
  if (hdr.err != 0) {
    metrics::Server().auth_failed.Add();
    AV_LOG(kWarn, "authentication failed for scheme {} from {}", a.scheme, c.peer());
    SendReply(c.id, hdr, proto::Empty{}, 0, /*close_after=*/true);
    return;
  }
  SendReply(c.id, hdr, proto::Empty{}, 0);
}

void Core::ProposeWrite(Session& s, Conn& c, CoreEvent& ev, const std::string* raw_body, Err local_err) {
  proto::Request& req = ev.request;
  if (ev.decode_err == Err::kOk && req.op() == OpCode::kCloseSession) {
    s.closing = true;
    sessions_.SetClosing(c.session);
  }
  Pending p;
  p.conn = c.id;
  p.is_write = true;
  p.local_err = local_err;
  p.request.header = req.header;
  p.received_us = ev.received_us;
  p.bytes = ev.bytes;
  // Before Write: a leader's sequencer moves the body into the txn.
  if (opts_.audit != nullptr) NoteForAudit(p, c, ev);
  WriteRequest w;
  w.session_id = c.session;
  w.request = &req;
  w.decode_err = ev.decode_err;
  w.raw_body = raw_body;
  w.ctx = &CtxOf(c);
  // Early replies (Committer::ProposeWithReply): the committer sends this
  // write's reply the moment it is durable, before the core applies it. The
  // connection's order allows it when nothing the core has for it can come
  // before that reply: no output of this pass not yet handed to the network,
  // nothing queued in the session but writes answered early too (later
  // requests wait behind this one, and are answered after its apply), and
  // no watch of the connection's (an event of a txn before this one would
  // be sent at that txn's apply, maybe after this reply), and no watch the
  // set fires (as in ZooKeeper, its watchers' events go out before the
  // writer's reply).
  const auto* set = std::get_if<proto::SetDataRequest>(&req.body);
  if (set != nullptr && ev.decode_err == Err::kOk && req.op() == OpCode::kSetData && local_err == Err::kOk &&
      !c.closing && c.pass_tail == 0 && s.queue.size() == s.early_queued && committer_->early_replies() &&
      (watches_.watch_count() == 0 ||
       (watches_.SessionWatchCount(static_cast<int64_t>(c.id)) == 0 && !watches_.MayFireOnData(set->path)))) {
    w.early_conn = c.id;
    w.early_reply = &p.early;
  }
  txn::SessionCtx refused;  // the leader prepares the refused create failing
  if (local_err != Err::kOk) {
    refused = *w.ctx;
    refused.ephemeral_err = local_err;
    w.ctx = &refused;
  }
  p.zxid = sequencer_->Write(w, clock_->WallMs());
  if (p.early) ++s.early_queued;
  Enqueue(s, std::move(p));
}

bool Core::RegisterReadWatch(Conn& c, const proto::Request& req, Err err) {
  auto w = static_cast<int64_t>(c.id);
  switch (req.op()) {
    case OpCode::kExists: {
      const auto& r = std::get<proto::ExistsRequest>(req.body);
      return !(r.watch && (err == Err::kOk || err == Err::kNoNode)) || watches_.AddData(r.path, w);
    }
    case OpCode::kGetData: {
      const auto& r = std::get<proto::GetDataRequest>(req.body);
      return !(r.watch && err == Err::kOk) || watches_.AddData(r.path, w);
    }
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2: {
      const auto& r = std::get<proto::GetChildrenRequest>(req.body);
      return !(r.watch && err == Err::kOk) || watches_.AddChild(r.path, w);
    }
    default:
      return true;  // multiRead: ZooKeeper registers no watch for its ops
  }
}

bool Core::MayRead(net::ConnId conn, const proto::AclList& acl) {
  for (const proto::Acl& a : acl) {
    if ((a.perms & proto::perms::kRead) != 0 && a.id.scheme == "world" && a.id.id == "anyone") return true;
  }
  auto it = conns_.find(conn);
  return it != conns_.end() && txn::CheckPermission(acl, proto::perms::kRead, CtxOf(*it->second));
}

void Core::RunNonTxn(Conn& c, const proto::Request& req, Err decode_err, int64_t received_us) {
  proto::ReplyHeader hdr{req.header.xid, applied_zxid_, 0};
  if (decode_err != Err::kOk) {
    hdr.err = static_cast<int32_t>(decode_err);
    SendReply(c.id, hdr, proto::Empty{}, received_us);
    return;
  }
  switch (req.op()) {
    case OpCode::kPing:
      SendReply(c.id, hdr, proto::Empty{}, received_us);
      return;
    case OpCode::kSync:
      SendReply(c.id, hdr, proto::SyncResponse{std::get<proto::SyncRequest>(req.body).path}, received_us, false,
                req.op());
      return;
    case OpCode::kSetWatches:
    case OpCode::kSetWatches2:
      hdr.err = static_cast<int32_t>(SetWatches(c, std::get<proto::SetWatches2>(req.body)));
      SendReply(c.id, hdr, proto::Empty{}, received_us);
      return;
    case OpCode::kAddWatch: {
      const auto& r = std::get<proto::AddWatchRequest>(req.body);
      bool recursive = r.mode == static_cast<int32_t>(proto::AddWatchMode::kPersistentRecursive);
      if (!recursive && r.mode != static_cast<int32_t>(proto::AddWatchMode::kPersistent)) {
        hdr.err = static_cast<int32_t>(Err::kMarshallingError);
      } else if (!watches_.AddPersistent(r.path, static_cast<int64_t>(c.id), recursive)) {
        hdr.err = static_cast<int32_t>(Err::kQuotaExceeded);
      }
      SendReply(c.id, hdr, proto::ErrorResponse{0}, received_us);
      return;
    }
    case OpCode::kCheckWatches:
    case OpCode::kRemoveWatches: {
      const auto& r = std::get<proto::RemoveWatchesRequest>(req.body);
      bool dry = req.op() == OpCode::kCheckWatches;
      if (r.type < static_cast<int32_t>(proto::WatcherType::kChildren) ||
          r.type > static_cast<int32_t>(proto::WatcherType::kPersistentRecursive)) {
        hdr.err = static_cast<int32_t>(Err::kMarshallingError);
      } else if (!watches_.Remove(r.path, static_cast<proto::WatcherType>(r.type), static_cast<int64_t>(c.id), dry,
                                  nullptr)) {
        hdr.err = static_cast<int32_t>(Err::kNoWatcher);
      }
      SendReply(c.id, hdr, proto::Empty{}, received_us);
      return;
    }
    case OpCode::kWhoAmI: {
      proto::WhoAmIResponse rsp;
      for (const auto& id : c.ctx.ids) {
        // Digest identities are shown by user name only, as ZooKeeper does.
        std::string user = id.scheme == "digest" ? id.id.substr(0, id.id.find(':')) : id.id;
        rsp.clientInfo.push_back(proto::ClientInfo{id.scheme, std::move(user)});
      }
      SendReply(c.id, hdr, rsp, received_us);
      return;
    }
    case OpCode::kGetData:
      RunGetData(c, req, hdr, received_us);
      return;
    case OpCode::kExists:
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2:
    case OpCode::kGetAcl:
    case OpCode::kGetEphemerals:
    case OpCode::kGetAllChildrenNumber:
    case OpCode::kMultiRead: {
      txn::ReadOutcome out =
          txn::ProcessRead(tree_, req, CtxOf(c), static_cast<size_t>(opts_.max_buffer) + kReplySlackBytes);
      if (!RegisterReadWatch(c, req, out.err)) {
        // The session holds all the watches it may: refuse, never drop.
        out.err = Err::kQuotaExceeded;
        out.body = proto::Empty{};
      }
      hdr.err = static_cast<int32_t>(out.err);
      if (out.err == Err::kOk) CountRead(req, out.body);
      SendReply(c.id, hdr, out.body, received_us, false, req.op());
      return;
    }
    default:
      // As ZooKeeper: an opcode it does not know is answered once with
      // UNIMPLEMENTED (zxid -1) and the connection is closed.
      hdr.zxid = -1;
      hdr.err = static_cast<int32_t>(Err::kUnimplemented);
      SendReply(c.id, hdr, proto::Empty{}, received_us, /*close_after=*/true);
      return;
  }
}

void Core::RunGetData(Conn& c, const proto::Request& req, proto::ReplyHeader hdr, int64_t received_us) {
  const auto& r = std::get<proto::GetDataRequest>(req.body);
  Err err = Err::kOk;
  const tree::Node* n =
      txn::GetDataNode(tree_, r, CtxOf(c), static_cast<size_t>(opts_.max_buffer) + kReplySlackBytes, &err);
  if (!RegisterReadWatch(c, req, err)) {
    // The session holds all the watches it may: refuse, never drop.
    n = nullptr;
    err = Err::kQuotaExceeded;
  }
  hdr.err = static_cast<int32_t>(err);
  if (n == nullptr) {
    SendReply(c.id, hdr, proto::Empty{}, received_us, false, req.op());
    return;
  }
  CountReadBytes(r.path, static_cast<int64_t>(n->data.size()));
  SendGetDataReply(c.id, hdr, *n, received_us);
}

namespace {
// Table entries and path bytes that re-arming `sw` may add at most.
void SetWatchesCost(const proto::SetWatches2& sw, size_t* entries, size_t* bytes) {
  *entries = 0;
  *bytes = 0;
  auto add = [&](const std::vector<std::string>& paths, size_t per_path) {
    for (const auto& p : paths) *bytes += p.size();
    *entries += paths.size() * per_path;
  };
  add(sw.dataWatches, 1);
  add(sw.existWatches, 1);
  add(sw.childWatches, 1);
  add(sw.persistentWatches, 2);  // data and child tables
  add(sw.persistentRecursiveWatches, 1);
}
}  // namespace

// Re-arms watches a reconnecting client had, firing at once the events it
// missed since relativeZxid (as ZooKeeper's DataTree.setWatches). All or
// nothing: kQuotaExceeded, with no watch armed and no event sent, when the
// connection could exceed its watch bounds. An event about an existing node
// goes out only if the session may READ it (ZooKeeper checks none here).
Err Core::SetWatches(Conn& c, const proto::SetWatches2& sw) {
  auto w = static_cast<int64_t>(c.id);
  size_t entries = 0;
  size_t bytes = 0;
  SetWatchesCost(sw, &entries, &bytes);
  if (!watches_.Fits(w, entries, bytes)) return Err::kQuotaExceeded;
  const int64_t rel = sw.relativeZxid;
  auto event = [&](proto::EventType type, const std::string& path, const tree::Node* n) {
    if (n != nullptr && !MayRead(c.id, tree_.AclOf(*n))) return;
    SendEvent(c.id, proto::WatcherEvent{static_cast<int32_t>(type),
                                        static_cast<int32_t>(proto::KeeperState::kSyncConnected), path});
  };
  for (const auto& path : sw.dataWatches) {
    const tree::Node* n = tree_.Find(path);
    if (n == nullptr) {
      event(proto::EventType::kNodeDeleted, path, n);
    } else if (n->stat.mzxid() > rel) {
      event(proto::EventType::kNodeDataChanged, path, n);
    } else {
      watches_.AddData(path, w);
    }
  }
  for (const auto& path : sw.existWatches) {
    if (const tree::Node* n = tree_.Find(path)) {
      event(proto::EventType::kNodeCreated, path, n);
    } else {
      watches_.AddData(path, w);
    }
  }
  for (const auto& path : sw.childWatches) {
    const tree::Node* n = tree_.Find(path);
    if (n == nullptr) {
      event(proto::EventType::kNodeDeleted, path, n);
    } else if (n->stat.pzxid() > rel) {
      event(proto::EventType::kNodeChildrenChanged, path, n);
    } else {
      watches_.AddChild(path, w);
    }
  }
  for (const auto& path : sw.persistentWatches) watches_.AddPersistent(path, w, false);
  for (const auto& path : sw.persistentRecursiveWatches) watches_.AddPersistent(path, w, true);
  return Err::kOk;
}

// Each event goes only to watchers that may READ the node it is about
// (CVE-2024-23944; ZooKeeper 3.8.4 / 3.9.2 NIOServerCnxn.process). A
// one-shot watch whose event is withheld is consumed all the same.
void Core::FireWatches(const std::vector<txn::WatchTrigger>& triggers) {
  for (const auto& trig : triggers) {
    fired_.clear();
    watches_.Trigger(trig.path, trig.type, &fired_);
    CountWatchesFired(trig.type, fired_.size());
    for (const auto& f : fired_) {
      auto conn = static_cast<net::ConnId>(f.watcher);
      if (!MayRead(conn, trig.acl)) continue;
      SendEvent(conn, proto::WatcherEvent{static_cast<int32_t>(f.type),
                                          static_cast<int32_t>(proto::KeeperState::kSyncConnected), f.path});
    }
  }
}

void Core::ApplyCommitted(int64_t now_ms, bool slice) {
  // Read before taking: a committer fails only after handing over all it
  // committed, so once it reports the failure nothing committed can arrive
  // after the pending writes are failed below.
  SubmitProposals(now_ms);
  const bool log_failed = committer_->ReadOnly();
  committer_->TakeCommitted(&committed_);
  txns_since_snapshot_ += static_cast<int64_t>(committed_.size());
  const int64_t wall_ms = committed_.empty() ? 0 : clock_->WallMs();  // propagation latency, once per batch
  // A group's txns touch nodes spread over the tree (a grown tree's index
  // slots, nodes and records are cache misses): load the index slots of the
  // txn kPrefetchSlots ahead, the nodes of the one kPrefetchNodes ahead and
  // the stat pool entries (a set node's stat is not in its node) of the one
  // kPrefetchStats ahead.
  constexpr size_t kPrefetchSlots = 8, kPrefetchNodes = 4, kPrefetchStats = 2;
  const size_t n = committed_.size();
  if (n != 0) pass_applied_ = true;
  for (size_t i = 0; i < std::min(kPrefetchSlots, n); ++i)
    txn::PrefetchForApply(tree_, committed_[i], i < kPrefetchNodes);
  if (opts_.prefetch_stats) {
    for (size_t i = 0; i < std::min(kPrefetchStats, n); ++i) sm_.PrefetchStats(committed_[i]);
  }
  for (size_t i = 0; i < n; ++i) {
    if (i + kPrefetchSlots < n) txn::PrefetchForApply(tree_, committed_[i + kPrefetchSlots], false);
    if (i + kPrefetchNodes < n) txn::PrefetchForApply(tree_, committed_[i + kPrefetchNodes], true);
    if (opts_.prefetch_stats && i + kPrefetchStats < n) sm_.PrefetchStats(committed_[i + kPrefetchStats]);
    const txn::Txn& t = committed_[i];
    if (snapshot_ && t.type == OpCode::kCloseSession) {
      // A fuzzy snapshot is being walked: it must record what this sweeps.
      snapshot_->NoteSwept(t.zxid, tree_.EphemeralsOf(t.session_id));
    }
    // The one apply (txn::StateMachine): checks zxid order and that the
    // outcome is the one prepare decided.
    std::vector<std::string> swept;  // audited: the ephemerals a close removes
    if (opts_.audit != nullptr && t.type == OpCode::kCloseSession) swept = tree_.EphemeralsOf(t.session_id);
    // With no watch registered no trigger can fire anything: skip them.
    sm_.SetWatchTriggers(watches_.watch_count() != 0);
    sm_.Apply(t, &applied_);  // reused: no allocation for the results once warm
    const txn::Applied& a = applied_;
    const txn::ApplyResult& r = a.result;
    if (!swept.empty()) AuditEphemerals(t.session_id, swept);
    CountApplied(t, wall_ms);
    applied_zxid_ = t.zxid;
    sequencer_->Applied(t.zxid);
    FireWatches(r.triggers);
    // Held syncs (HoldSync) this txn completes: answered before its own
    // reply (a write behind one in its session is the head after it).
    if (!held_syncs_.empty() && held_syncs_.front().target <= applied_zxid_) ReleaseHeldSyncs();
    if (a.session.kind == txn::SessionChange::Kind::kCreated) {
      AddSession(a.session, now_ms);
      auto pc = creating_.find(t.session_id);
      if (pc != creating_.end()) {
        const PendingCreate info = pc->second;
        creating_.erase(pc);
        FinishCreateSession(t, info, now_ms);
      }
    } else {
      DeliverToSession(t, a);
    }
    // Reply slices (CoreOptions::reply_slice): what is queued so far goes
    // out now, between two sessions' txns (a session's run of replies stays
    // one buffer), so the first clients of a large group need not wait for
    // the rest of it to be applied. Everything queued is in order: events
    // before the replies that observe them, per connection FIFO.
    if (slice && opts_.reply_slice > 0 && i + 1 < n && out_.size() >= static_cast<size_t>(opts_.reply_slice) &&
        committed_[i + 1].session_id != t.session_id) {
      Flush();
    }
  }
  // A set's path and data were decoded on an I/O thread: their storage
  // goes back there (path_pool.h) instead of being freed here.
  for (txn::Txn& t : committed_) {
    if (t.type != OpCode::kSetData) continue;
    if (auto* set = std::get_if<txn::SetDataTxn>(&t.op.body)) {
      path_pool_.Keep(set->path);
      path_pool_.Keep(set->data);
    }
  }
  committed_.clear();
  if (!storage_failed_ && log_failed) FailPendingWrites();
}

void Core::SubmitProposals(int64_t now_ms) {
  if (!committer_->HasPassProposals()) return;  // nothing to submit: no inbox lock either
  const bool idle = now_ms >= inline_sync_backoff_until_ms_ && InboxIdle();
  if (committer_->EndOfPass(idle) && !InboxIdle()) inline_sync_backoff_until_ms_ = now_ms + kInlineSyncBackoffMs;
}

void Core::FailPendingWrites() {
  storage_failed_ = true;
  AV_LOG(kError, "storage failed: answering {} queued requests; writes are refused from now on", queued_);
  const int64_t unknown_through = committer_->UnknownThrough();
  std::unordered_set<net::ConnId> lost;  // being closed: answer nothing more on them
  for (auto& [id, sp] : session_state_) {
    Session& s = sp;
    while (!s.queue.empty()) {
      Pending p = Dequeue(s);
      auto it = conns_.find(p.conn);
      if (it == conns_.end() || lost.count(p.conn)) continue;
      if (p.is_sync && follower_ == nullptr) {
        // A held sync (HoldSync): nothing more will be applied.
        RunNonTxn(*it->second, p.request, p.decode_err, p.received_us);
        continue;
      }
      if (p.is_write && (p.zxid == 0 || p.zxid <= unknown_through)) {
        // It may be in the log (cutting the log back failed), or it was
        // forwarded to a leader: its outcome is unknown, which a client
        // learns from connection loss, never from an error reply.
        AV_LOG(kWarn, "closing {}: the outcome of its write {:#x} is unknown", it->second->peer(), p.zxid);
        out_.push_back(net::ConnectionServer::Out{p.conn, {}, true});
        lost.insert(p.conn);
      } else if (p.is_write) {
        proto::ReplyHeader hdr{p.request.header.xid, applied_zxid_, static_cast<int32_t>(Err::kNotReadOnly)};
        SendReply(p.conn, hdr, proto::Empty{}, p.received_us);
      } else if (p.local_close) {
        SendReply(p.conn, proto::ReplyHeader{p.request.header.xid, applied_zxid_, 0}, proto::Empty{}, p.received_us,
                  /*close_after=*/true);
      } else {
        RunNonTxn(*it->second, p.request, p.decode_err, p.received_us);
      }
    }
  }
  for (const auto& [id, pc] : creating_) out_.push_back(net::ConnectionServer::Out{pc.conn, {}, true});
  creating_.clear();
  held_syncs_.clear();
  sequencer_->Reset(applied_zxid_);
}

namespace {
proto::ResponseBody WriteResponse(const txn::Txn& t, const txn::ApplyResult& r) {
  if (t.type == OpCode::kMulti) return txn::ToMultiResponse(r);
  if (r.err != Err::kOk || r.results.empty()) return proto::Empty{};
  const txn::OpResult& op = r.results.front();
  switch (op.type) {
    case OpCode::kCreate:
      return proto::CreateResponse{op.path};
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
      return proto::Create2Response{op.path, op.stat};
    case OpCode::kSetData:
    case OpCode::kSetAcl:
      return proto::StatResponse{op.stat};
    default:
      return proto::Empty{};
  }
}
}  // namespace

void Core::DeliverToSession(const txn::Txn& t, const txn::Applied& a) {
  auto st = session_state_.find(t.session_id);
  if (st == session_state_.end()) return;  // container / TTL sweep, or an unknown session
  Session& s = st->second;
  CompleteSyncsBefore(s, t);
  const Pending* head =
      s.queue.empty() || !s.queue.front().is_write || s.queue.front().is_sync ? nullptr : &s.queue.front();
  auto describe_head = [&s] {
    if (s.queue.empty()) return std::string("empty");
    const Pending& h = s.queue.front();
    return fmt::format("head: {} zxid {:#x} xid {}", h.is_write ? "write" : "read", h.zxid, h.request.header.xid);
  };
  bool ours = false;
  if (head != nullptr && head->zxid != 0) {
    // Proposed by this server as leader: writes commit in the order they
    // were queued, and reads behind a write leave right after its reply, so
    // the head is this very write, or a later one (t is then a sweep's).
    AV_CHECK(head->zxid > t.zxid || (head->zxid == t.zxid && head->request.header.xid == t.cxid),
             "pipeline order violated: committed zxid {:#x} (cxid {}) is not the head of session {:#x}'s queue ({})",
             t.zxid, t.cxid, s.id, describe_head());
    ours = head->zxid == t.zxid;
  } else if (head != nullptr) {
    // Forwarded to the leader: matched by cxid (a closeSession only answers
    // a closeSession: an expiry's has cxid 0 too).
    ours = head->request.header.xid == t.cxid &&
           (head->request.op() == OpCode::kCloseSession) == (t.type == OpCode::kCloseSession);
  }
  if (ours) {
    ReplyToWrite(s, t, a.result);
    return;
  }
  if (a.session.kind == txn::SessionChange::Kind::kClosed) {
    // Expired by the leader (or closed elsewhere): its connection goes.
    if (s.conn != 0) {
      AV_LOG(kInfo, "Session {:#x} of client {} ended by the leader (expired, or closed on another server)", s.id,
             PeerOf(s.conn));
      out_.push_back(net::ConnectionServer::Out{s.conn, {}, true});
    }
    FinishCloseSession(t, 0);
  }
}

void Core::ReplyToWrite(Session& s, const txn::Txn& t, const txn::ApplyResult& r) {
  Pending p = Dequeue(s);
  if (p.audit) AuditWrite(p, t, r);
  proto::ReplyHeader hdr{p.request.header.xid, t.zxid, static_cast<int32_t>(r.err)};
  bool closing = p.request.op() == OpCode::kCloseSession;
  if (t.type == OpCode::kMulti) hdr.err = 0;
  if (p.local_err != Err::kOk && t.type == OpCode::kError) hdr.err = static_cast<int32_t>(p.local_err);
  if (p.request.op() == OpCode::kCheck) {
    // ZooKeeper logs a lone check as a txn but cannot answer it: its final
    // stage fails and drops the connection. Do the same, after the txn.
    if (conns_.count(p.conn)) out_.push_back(net::ConnectionServer::Out{p.conn, {}, true});
    DrainSession(s);
    return;
  }
  if (t.replied) {
    // Sent by the committer when it became durable (ProposeWithReply).
    AV_CHECK(p.early && r.err == Err::kOk && !closing, "early reply for zxid {:#x} of session {:#x} is not one", t.zxid,
             s.id);
    auto it = conns_.find(p.conn);
    constexpr size_t kSetDataReplyBytes = 4 + 16 + 68;  // length, ReplyHeader, Stat
    ReplyQueued(it != conns_.end() ? it->second.get() : nullptr, hdr, kSetDataReplyBytes, p.received_us, false,
                p.request.op(), /*sent=*/true);
    DrainSession(s);
    return;
  }
  if (conns_.count(p.conn)) SendReply(p.conn, hdr, WriteResponse(t, r), p.received_us, closing, p.request.op());
  if (closing) {
    AV_LOG(kInfo, "Closed session {:#x} at the request of client {}", s.id, PeerOf(p.conn));
    FinishCloseSession(t, 0);
    return;
  }
  DrainSession(s);
}

void Core::Enqueue(Session& s, Pending p) { EnqueueNew(s) = std::move(p); }

Core::Pending& Core::EnqueueNew(Session& s) {
  if (!queue_spares_) queue_spares_ = std::make_unique<QueueSpares>();
  ++queued_;  // published to queued_total_ (Backlog) once per pass, by Flush
  return s.queue.emplace_back(queue_spares_.get());
}

Core::Pending Core::Dequeue(Session& s) {
  Pending p = std::move(s.queue.front());
  s.queue.pop_front(queue_spares_.get());
  --queued_;
  if (p.early) --s.early_queued;
  auto it = conns_.find(p.conn);
  if (it != conns_.end()) {
    it->second->queued_bytes -= p.bytes;
    Credit(*it->second);
  } else {
    Credit(p.conn);
  }
  return p;
}

void Core::DropQueue(Session& s) {
  while (!s.queue.empty()) Dequeue(s);
}

void Core::DrainSession(Session& s) {
  // The reads behind the write just answered leave together: each runs in
  // its queue slot (not moved out), the connection is looked up once for
  // the run of them (a session's requests come from one connection), and
  // a read's path storage goes back to the I/O threads (path_pool_).
  Conn* c = nullptr;
  net::ConnId cid = 0;
  while (!s.queue.empty() && s.queue.front().Runnable()) {
    Pending& p = s.queue.front();
    if (p.local_close) {
      Pending q = Dequeue(s);
      FinishLocalClose(s, q.conn, q.request.header.xid, q.received_us);
      return;  // s is gone
    }
    if (c == nullptr || cid != p.conn) {
      auto it = conns_.find(p.conn);
      cid = p.conn;
      c = it != conns_.end() ? it->second.get() : nullptr;
    }
    // Dequeue's bookkeeping, then the read (it neither closes a Conn here
    // nor touches this queue: replies and events only).
    --queued_;
    if (c != nullptr) {
      c->queued_bytes -= p.bytes;
      Credit(*c);
      RunNonTxn(*c, p.request, p.decode_err, p.received_us);
      path_pool_.KeepPathOf(p.request);
    } else {
      Credit(p.conn);
    }
    s.queue.pop_front(queue_spares_.get());
  }
}

}  // namespace aviary::server
