// Reply encoding and batching: every reply and event of one core pass for a
// connection is appended to one buffer, handed to the network in one post.
#include <algorithm>
#include <cstdint>

#include "base/log.h"
#include "metrics/server_metrics.h"
#include "proto/codec.h"
#include "server/core_state.h"
#include "server/latency_trace.h"

namespace aviary::server {

std::string* Core::TailFor(net::ConnId conn, Conn* c) {
  if (out_.empty() || out_.back().conn != conn || out_.back().close_after) {
    out_.push_back(net::ConnectionServer::Out{conn, {}, false});
    if (!spare_bytes_.empty()) {
      out_.back().bytes.swap(spare_bytes_.back());  // a buffer of an earlier pass (Flush)
      spare_bytes_.pop_back();
    }
  }
  if (c != nullptr) {
    NotePassConn(*c);
    c->pass_tail = static_cast<uint32_t>(out_.size());
  }
  return &out_.back().bytes;
}

void Core::SendReply(net::ConnId conn, const proto::ReplyHeader& hdr, const proto::ResponseBody& body,
                     int64_t received_us, bool close_after, proto::OpCode op) {
  auto it = conns_.find(conn);
  Conn* c = it != conns_.end() ? it->second.get() : nullptr;
  if (c != nullptr && c->closing) return;
  std::string* buf = TailFor(conn, c);
  const size_t before = buf->size();
  proto::EncodeReply(hdr, body, buf);
  ReplyQueued(c, hdr, buf->size() - before, received_us, close_after, op);
}

void Core::SendGetDataReply(net::ConnId conn, const proto::ReplyHeader& hdr, const tree::Node& n, int64_t received_us) {
  auto it = conns_.find(conn);
  Conn* c = it != conns_.end() ? it->second.get() : nullptr;
  if (c != nullptr && c->closing) return;
  std::string* buf = TailFor(conn, c);
  const size_t before = buf->size();
  proto::EncodeGetDataReply(hdr, n.data.view(), n.data_null, tree::ToStat(n), buf);
  ReplyQueued(c, hdr, buf->size() - before, received_us, false, proto::OpCode::kGetData);
}

void Core::ReplyQueued(Conn* c, const proto::ReplyHeader& hdr, size_t bytes, int64_t received_us, bool close_after,
                       proto::OpCode op, bool sent) {
  if (close_after) {
    out_.back().close_after = true;
    if (c != nullptr) c->closing = true;
  }
  ++packets_sent_;
  metrics::Server().response_bytes.Add(static_cast<int64_t>(bytes));
  if (c != nullptr) {
    ++c->sent;
    if (!sent) ChargeOutput(*c, bytes);
  }
  if (received_us > 0) {
    int64_t now_us = 0;
    int64_t lat = RecordLatency(received_us, op, &now_us);
    // The latency trace's write split: recorded when this pass delivers (Flush).
    if (trace::On() && IsWrite(op) && !sent) trace::WriteReplied(hdr.zxid, received_us, now_us);
    if (c != nullptr) NoteReplyStats(*c, hdr, lat, now_us / 1000);  // the same clock reading
  }
}

void Core::SendEvent(net::ConnId conn, const proto::WatcherEvent& ev) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second->closing) return;
  Conn& c = *it->second;
  std::string* buf = TailFor(conn, &c);
  const size_t before = buf->size();
  proto::ReplyHeader hdr{proto::xid::kNotification, -1, 0};
  proto::EncodeReply(hdr, ev, buf);
  ++packets_sent_;
  metrics::Server().watch_bytes.Add(static_cast<int64_t>(buf->size() - before));
  ChargeOutput(c, buf->size() - before);
}

void Core::NotePassConn(Conn& c) {
  if (c.pass_consumed == 0 && c.pass_output == 0 && c.pass_tail == 0) pass_conns_.push_back(c.id);
}

void Core::Credit(Conn& c) {
  NotePassConn(c);
  ++c.pass_consumed;
}

void Core::Credit(net::ConnId conn) {
  auto it = conns_.find(conn);
  if (it != conns_.end()) {
    Credit(*it->second);
    return;
  }
  // Gone here (the network reported it closed): handed back all the same.
  if (credit_gone_.empty() || credit_gone_.back().first != conn) credit_gone_.emplace_back(conn, 0);
  ++credit_gone_.back().second;
}

void Core::ChargeOutput(Conn& c, size_t bytes) {
  NotePassConn(c);
  const uint64_t total = uint64_t{c.pass_output} + bytes;
  c.pass_output = static_cast<uint32_t>(std::min<uint64_t>(total, UINT32_MAX));
  if (total >= std::min(kParkOutputBytes, opts_.max_output_bytes / 2) && !c.parked()) {
    // Its later requests wait until the network has written these out
    // (OnDrained); what is already under way (reads queued behind a write,
    // write replies, watch events) still goes, up to max_output_bytes.
    c.Extras().parked = true;
    c.extras->park_notify = true;
  }
  if (total <= opts_.max_output_bytes) return;
  AV_LOG(kWarn, "closing {}: over {} bytes of replies not yet sent", c.peer(), opts_.max_output_bytes);
  c.closing = true;
  for (auto& o : out_) {
    if (o.conn != c.id) continue;
    std::string().swap(o.bytes);
    o.close_after = false;
  }
  outbox_->CloseNow(c.id);
}

void Core::Flush() {
  for (net::ConnId id : pass_conns_) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;  // closed in this pass: its counts went with it (credit_gone_)
    Conn& c = *it->second;
    if (c.pass_consumed != 0) {
      // The credit joins the connection's latest reply buffer of this pass
      // (one entry, one command for the network, instead of two).
      const size_t tail = c.pass_tail;
      if (tail != 0 && tail <= out_.size() && out_[tail - 1].conn == id && !out_[tail - 1].close_after) {
        out_[tail - 1].consumed += c.pass_consumed;
      } else {
        out_.push_back(net::ConnectionServer::Out{id, {}, false, c.pass_consumed});
      }
    }
    if (c.extras && c.extras->park_notify) {
      c.extras->park_notify = false;
      out_.push_back(net::ConnectionServer::Out{id, {}, false, 0, /*notify_drained=*/true});
    }
    c.pass_consumed = 0;
    c.pass_tail = 0;
    c.pass_output = 0;
  }
  pass_conns_.clear();
  if (queued_ != queued_total_.load(std::memory_order_relaxed)) {
    queued_total_.store(queued_, std::memory_order_relaxed);  // Backlog(): once per pass
  }
  path_pool_.Publish();  // one lock per pass, when reads were answered
  for (const auto& [conn, n] : credit_gone_) out_.push_back(net::ConnectionServer::Out{conn, {}, false, n});
  credit_gone_.clear();
  if (!out_.empty()) {
    const int64_t t0 = trace::On() ? trace::NowUs() : 0;
    if (pass_applied_) {
      outbox_->DeliverWrites(out_);
    } else {
      outbox_->Deliver(out_);
    }
    if (t0 != 0) {
      const int64_t t1 = trace::NowUs();
      trace::Record(trace::kDeliver, t1 - t0);
      trace::WritesDelivered(t1);
    }
  }
  pass_applied_ = false;
  // The network wrote most reply buffers straight to their sockets and left
  // them here (ConnectionServer::SendBatch): kept for the next passes'
  // replies, so a reply buffer is not allocated (and grown) per connection
  // per pass.
  for (auto& o : out_) {
    const size_t cap = o.bytes.capacity();
    if (cap <= kSpareMinBytes || cap > kSpareMaxBytes || spare_bytes_.size() >= kMaxSpareBuffers) continue;
    o.bytes.clear();
    spare_bytes_.push_back(std::move(o.bytes));
  }
  out_.clear();
}

// ZooKeeper's ServerStats.updateLatency: txn requests in updatelatency,
// every other one (pings included) in readlatency, in whole ms.
int64_t Core::RecordLatency(int64_t received_us, proto::OpCode op, int64_t* now_us) {
  const int64_t now = clock_->SteadyUs();
  if (now_us != nullptr) *now_us = now;
  int64_t lat = now - received_us;
  if (lat < 0) lat = 0;
  metrics::ServerMetrics& m = metrics::Server();
  const bool data_op = op != proto::OpCode::kNotification;
  const bool txn = data_op && (IsWrite(op) || op == proto::OpCode::kCreateSession);
  (txn ? m.update_latency : m.read_latency).Add(lat / 1000);
  if (data_op) {
    // The op's summary, looked up by name once per opcode (the same
    // SummarySet entry; the core is its one writer).
    const auto code = static_cast<uint32_t>(static_cast<int32_t>(op) + kLatencyOpBias);
    metrics::Summary* by_op = code < latency_by_op_.size() ? latency_by_op_[code] : nullptr;
    if (by_op == nullptr) {
      by_op = &m.request_latency_by_op.Get(proto::OpName(op));
      if (code < latency_by_op_.size()) latency_by_op_[code] = by_op;
    }
    by_op->Add(lat);
    trace::Record(txn ? trace::kWriteTotal : trace::kReadTotal, lat);
  }
  if (latency_min_us_ < 0 || lat < latency_min_us_) latency_min_us_ = lat;
  if (lat > latency_max_us_) latency_max_us_ = lat;
  latency_total_us_ += lat;
  ++latency_count_;
  return lat;
}

}  // namespace aviary::server
