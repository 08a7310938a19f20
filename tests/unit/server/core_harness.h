// Test harness that drives a server::Core directly, without sockets.
//
// Owns: the Core, a RecordingOutbox that decodes every delivered frame
// (ConnectResponse, reply or watch event, raw four-letter text) per
// connection, and optionally a HeldCommitter that keeps proposals until the
// test releases them (so several writes are prepared before any applies).
// Thread use: single-threaded, like the core thread it stands in for.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/four_letter_whitelist.h"
#include "proto/codec.h"
#include "server/committer.h"
#include "server/core.h"

namespace aviary::server::testing {

// Holds every proposal until Release(); TakeCommitted hands out released ones.
//
// With an early-reply sink (set_early_sink, as DurableCommitter's): the
// replies of ProposeWithReply's txns go to the sink as Release commits
// them, one Out per txn, and the txns come back with `replied` set.
class HeldCommitter final : public Committer {
 public:
  using Sink = std::function<void(std::vector<net::ConnectionServer::Out>&)>;
  void Propose(txn::Txn t) override {
    held_.push_back(std::move(t));
    replies_.emplace_back();
  }
  bool early_replies() const override { return static_cast<bool>(sink_); }
  void ProposeWithReply(txn::Txn t, const EarlyReply& reply) override {
    held_.push_back(std::move(t));
    replies_.push_back(reply);
  }
  void set_early_sink(Sink sink) { sink_ = std::move(sink); }
  int early_sent() const { return early_sent_; }
  void TakeCommitted(std::vector<txn::Txn>* out) override {
    for (auto& t : released_) out->push_back(std::move(t));
    released_.clear();
  }
  // Releases the oldest `n` held txns (all when n < 0).
  void Release(int n = -1) {
    while (!held_.empty() && n != 0) {
      txn::Txn& t = held_.front();
      if (sink_ && replies_.front().size != 0) {
        std::vector<net::ConnectionServer::Out> batch(1);
        batch[0].conn = replies_.front().conn;
        batch[0].bytes.assign(replies_.front().view());
        sink_(batch);
        t.replied = true;
        ++early_sent_;
      }
      committed_through_ = t.zxid;
      released_.push_back(std::move(t));
      held_.pop_front();
      replies_.pop_front();
      if (n > 0) --n;
    }
  }
  size_t held() const { return held_.size(); }
  // The held txns, oldest first: tests may tamper with them to play a
  // corrupt pipeline (see core_invariants_test.cc).
  std::deque<txn::Txn>& pending() { return held_; }
  // Simulates a log failure: what is held is never committed, and the
  // committer reports ReadOnly() from now on.
  void Fail() {
    failed_ = true;
    held_.clear();
    replies_.clear();
  }
  bool ReadOnly() const override { return failed_; }
  int64_t CommittedThrough() const override { return committed_through_; }

 private:
  bool failed_ = false;
  int64_t committed_through_ = 0;
  std::deque<txn::Txn> held_;
  std::deque<EarlyReply> replies_;  // beside held_ (size 0: none)
  std::vector<txn::Txn> released_;
  Sink sink_;
  int early_sent_ = 0;
};

// One thing the core sent to (or did with) a connection, in delivery order.
struct Item {
  enum class Kind { kConnect, kReply, kEvent, kRaw, kClose } kind = Kind::kReply;
  proto::ConnectResponse connect;
  proto::ReplyHeader hdr;
  proto::ResponseBody body;
  proto::OpCode op = proto::OpCode::kError;  // kReply: the op of the request with that xid
  std::string raw;
  bool decoded = true;

  const proto::WatcherEvent& event() const { return std::get<proto::WatcherEvent>(body); }
};

class CoreHarness : public Outbox {
 public:
  explicit CoreHarness(bool held = false, CoreOptions opts = DefaultOptions()) {
    if (held) {
      held_ = std::make_unique<HeldCommitter>();
      committer_ = held_.get();
    } else {
      local_ = std::make_unique<LocalCommitter>();
      committer_ = local_.get();
    }
    core_ = std::make_unique<Core>(std::move(opts), committer_, this);
  }

  // A Core over a committer the test owns (e.g. one that feeds another Core).
  CoreHarness(Committer* committer, CoreOptions opts) : committer_(committer) {
    core_ = std::make_unique<Core>(std::move(opts), committer_, this);
  }

  static CoreOptions DefaultOptions() {
    CoreOptions o;
    o.tick_ms = 2000;
    o.min_session_timeout_ms = 4000;
    o.max_session_timeout_ms = 40000;
    o.password_secret = 0x1234567887654321ull;
    o.container_check_interval_ms = 1'000'000'000;
    o.config.four_letter_whitelist = config::ParseFourLetterWhitelist("*");
    return o;
  }

  Core& core() { return *core_; }
  HeldCommitter& held() { return *held_; }

  // --- queueing input events (processed by Run) ---
  void Open(net::ConnId conn) {
    CoreEvent ev;
    ev.kind = CoreEvent::Kind::kOpened;
    ev.conn = conn;
    ev.text = "127.0.0.1:" + std::to_string(5000 + conn);
    batch_.push_back(std::move(ev));
  }
  // read_only: the client's canBeReadOnly flag (ConnectRequest.readOnly).
  void Connect(net::ConnId conn, int32_t timeout_ms, int64_t session = 0, std::string passwd = std::string(16, '\0'),
               bool read_only = false, int64_t last_zxid_seen = 0) {
    CoreEvent ev;
    ev.kind = CoreEvent::Kind::kConnect;
    ev.conn = conn;
    ev.connect.timeOut = timeout_ms;
    ev.connect.sessionId = session;
    ev.connect.passwd = std::move(passwd);
    ev.connect.readOnly = read_only;
    ev.connect.lastZxidSeen = last_zxid_seen;
    conns_[conn].expect_connect = true;
    batch_.push_back(std::move(ev));
  }
  void Send(net::ConnId conn, int32_t xid, proto::OpCode op, proto::RequestBody body) {
    CoreEvent ev;
    ev.kind = CoreEvent::Kind::kRequest;
    ev.conn = conn;
    ev.request.header = proto::RequestHeader{xid, static_cast<int32_t>(op)};
    ev.request.body = std::move(body);
    std::string frame;
    proto::EncodeRequest(ev.request, &frame);
    ev.bytes = frame.size() + 4;
    conns_[conn].ops[xid] = op;
    batch_.push_back(std::move(ev));
  }
  void FourLetter(net::ConnId conn, std::string word) {
    CoreEvent ev;
    ev.kind = CoreEvent::Kind::kFourLetter;
    ev.conn = conn;
    ev.text = std::move(word);
    conns_[conn].raw = true;
    batch_.push_back(std::move(ev));
  }
  // The network reports `conn`'s unwritten output drained (kDrained).
  void Drained(net::ConnId conn) {
    CoreEvent ev;
    ev.kind = CoreEvent::Kind::kDrained;
    ev.conn = conn;
    batch_.push_back(std::move(ev));
  }
  void Disconnect(net::ConnId conn) {
    CoreEvent ev;
    ev.kind = CoreEvent::Kind::kClosed;
    ev.conn = conn;
    batch_.push_back(std::move(ev));
  }

  // Queues any event (e.g. a kForwarded one).
  void Post(CoreEvent ev) { batch_.push_back(std::move(ev)); }
  // Queues a role change (as QuorumPeer posts them).
  void Role(ServingRole role, int64_t epoch = 0) {
    CoreEvent ev;
    ev.kind = CoreEvent::Kind::kRole;
    ev.role = role;
    ev.role_epoch = epoch;
    batch_.push_back(std::move(ev));
  }

  // Processes the queued events as one batch at now_ms.
  void Run(int64_t now_ms) {
    std::vector<CoreEvent> b;
    b.swap(batch_);
    core_->ProcessBatch(b, now_ms);
  }
  void Tick(int64_t now_ms) { core_->Tick(now_ms); }

  // Opens `conn`, handshakes, and returns the ConnectResponse.
  proto::ConnectResponse Handshake(net::ConnId conn, int64_t now_ms, int32_t timeout_ms = 10000) {
    Open(conn);
    Connect(conn, timeout_ms);
    Run(now_ms);
    if (held_) {
      held_->Release();
      Run(now_ms);
    }
    const auto& items = conns_[conn].items;
    EXPECT_FALSE(items.empty());
    if (items.empty() || items.back().kind != Item::Kind::kConnect) return {};
    return items.back().connect;
  }

  // --- inspecting output ---
  std::vector<Item>& Items(net::ConnId conn) { return conns_[conn].items; }
  // Items of `conn` received since the last Take(conn).
  std::vector<Item> Take(net::ConnId conn) {
    auto& c = conns_[conn];
    std::vector<Item> out(c.items.begin() + static_cast<std::ptrdiff_t>(c.taken), c.items.end());
    c.taken = c.items.size();
    return out;
  }
  bool IsClosed(net::ConnId conn) const {
    auto it = conns_.find(conn);
    if (it == conns_.end()) return false;
    for (const auto& i : it->second.items)
      if (i.kind == Item::Kind::kClose) return true;
    return false;
  }
  int deliveries() const { return deliveries_; }
  // Out entries (reply buffers, credits, closes) in every delivery so far.
  size_t entries() const { return entries_; }
  // The storage of every reply buffer delivered with bytes, in order (to see
  // the core reuse a buffer the network handed back).
  const std::vector<const char*>& buffers() const { return buffers_; }
  // Frames of `conn` the core has handed back as flow-control credit.
  uint64_t Credit(net::ConnId conn) { return conns_[conn].credit; }
  // Out entries of `conn` that asked the network for kDrained.
  int DrainAsks(net::ConnId conn) { return conns_[conn].drain_asks; }

  // Outbox
  void Deliver(std::vector<net::ConnectionServer::Out>& batch) override {
    ++deliveries_;
    entries_ += batch.size();
    for (auto& o : batch) {
      if (!o.bytes.empty()) buffers_.push_back(o.bytes.data());
      auto& c = conns_[o.conn];
      c.credit += o.consumed;
      if (o.notify_drained) ++c.drain_asks;
      if (c.raw) {
        if (!o.bytes.empty()) c.items.push_back(RawItem(o.bytes));
      } else {
        Split(c, o.bytes);
      }
      if (o.close_after) c.items.push_back(CloseItem());
    }
  }
  void CloseNow(net::ConnId conn) override { conns_[conn].items.push_back(CloseItem()); }

 private:
  struct ConnLog {
    bool raw = false;
    bool expect_connect = false;
    std::map<int32_t, proto::OpCode> ops;
    std::vector<Item> items;
    size_t taken = 0;
    uint64_t credit = 0;
    int drain_asks = 0;
  };

  static Item RawItem(std::string s) {
    Item i;
    i.kind = Item::Kind::kRaw;
    i.raw = std::move(s);
    return i;
  }
  static Item CloseItem() {
    Item i;
    i.kind = Item::Kind::kClose;
    return i;
  }

  void Split(ConnLog& c, const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ASSERT_GE(bytes.size() - off, 4u) << "truncated length prefix";
      auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + off);
      uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
      ASSERT_LE(len, bytes.size() - off - 4) << "truncated frame";
      std::string_view payload(bytes.data() + off + 4, len);
      off += 4 + len;
      Item it;
      if (c.expect_connect) {
        c.expect_connect = false;
        it.kind = Item::Kind::kConnect;
        it.decoded = proto::DecodeConnectResponse(payload, &it.connect);
      } else {
        ASSERT_GE(payload.size(), 4u);
        auto* q = reinterpret_cast<const unsigned char*>(payload.data());
        auto xid = static_cast<int32_t>((uint32_t{q[0]} << 24) | (uint32_t{q[1]} << 16) | (uint32_t{q[2]} << 8) | q[3]);
        if (xid == proto::xid::kNotification) {
          it.kind = Item::Kind::kEvent;
        } else {
          auto op = c.ops.find(xid);
          it.op = op == c.ops.end() ? proto::OpCode::kPing : op->second;
        }
        it.decoded = proto::DecodeReply(payload, it.op, &it.hdr, &it.body);
      }
      EXPECT_TRUE(it.decoded) << "undecodable frame";
      c.items.push_back(std::move(it));
    }
  }

  std::unique_ptr<LocalCommitter> local_;
  std::unique_ptr<HeldCommitter> held_;
  Committer* committer_ = nullptr;
  std::unique_ptr<Core> core_;
  std::vector<CoreEvent> batch_;
  std::map<net::ConnId, ConnLog> conns_;
  int deliveries_ = 0;
  size_t entries_ = 0;
  std::vector<const char*> buffers_;
};

// --- request body shorthands ---
inline proto::CreateRequest CreateBody(std::string path, std::string data, int32_t flags = 0, proto::AclList acl = {}) {
  proto::CreateRequest r;
  r.path = std::move(path);
  r.data = std::move(data);
  r.flags = flags;
  if (acl.empty()) acl.push_back(proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}});
  r.acl = std::move(acl);
  return r;
}
inline proto::GetDataRequest GetDataBody(std::string path, bool watch = false) {
  return proto::GetDataRequest{std::move(path), watch};
}
inline proto::SetDataRequest SetDataBody(std::string path, std::string data, int32_t version = -1) {
  proto::SetDataRequest r;
  r.path = std::move(path);
  r.data = std::move(data);
  r.version = version;
  return r;
}

// Two Cores as leader and follower without the quorum protocol (the role
// tests, the learner tests).
// Leader side: committed on proposal (as LocalCommitter); every committed
// txn is also queued, in order, for the follower.
class BroadcastCommitter final : public Committer {
 public:
  void Propose(txn::Txn t) override {
    follower_feed.push_back(t);
    committed_.push_back(std::move(t));
  }
  void TakeCommitted(std::vector<txn::Txn>* out) override {
    for (auto& t : committed_) out->push_back(std::move(t));
    committed_.clear();
  }
  std::vector<txn::Txn> follower_feed;

 private:
  std::vector<txn::Txn> committed_;
};

// Follower side: what the leader committed, handed over in order.
class FeedCommitter final : public Committer {
 public:
  explicit FeedCommitter(std::vector<txn::Txn>* feed) : feed_(feed) {}
  void Propose(txn::Txn) override { ADD_FAILURE() << "a follower never proposes"; }
  void TakeCommitted(std::vector<txn::Txn>* out) override {
    for (auto& t : *feed_) out->push_back(std::move(t));
    feed_->clear();
  }

 private:
  std::vector<txn::Txn>* feed_;
};

}  // namespace aviary::server::testing
