// Reply encoding and batching: every reply and event of one core pass for a
// connection is appended to one buffer, handed to the network in one post.
#include "base/log.h"
#include "metrics/server_metrics.h"
#include "proto/codec.h"
#include "server/core_state.h"
#include "server/latency_trace.h"

namespace aviary::server {

namespace {
std::string* TailFor(std::vector<net::ConnectionServer::Out>& out, net::ConnId conn) {
  if (!out.empty() && out.back().conn == conn && !out.back().close_after) return &out.back().bytes;
  out.push_back(net::ConnectionServer::Out{conn, {}, false});
  return &out.back().bytes;
}
}  // namespace

void Core::SendReply(net::ConnId conn, const proto::ReplyHeader& hdr, const proto::ResponseBody& body,
                     int64_t received_us, bool close_after, proto::OpCode op) {
  auto it = conns_.find(conn);
  if (it != conns_.end() && it->second->closing) return;
  std::string* buf = TailFor(out_, conn);
  const size_t before = buf->size();
  proto::EncodeReply(hdr, body, buf);
  ReplyQueued(conn, it != conns_.end() ? it->second.get() : nullptr, hdr, buf->size() - before, received_us,
              close_after, op);
}

void Core::SendGetDataReply(net::ConnId conn, const proto::ReplyHeader& hdr, const tree::Node& n, int64_t received_us) {
  auto it = conns_.find(conn);
  if (it != conns_.end() && it->second->closing) return;
  std::string* buf = TailFor(out_, conn);
  const size_t before = buf->size();
  proto::EncodeGetDataReply(hdr, n.data.view(), n.data_null, tree::ToStat(n), buf);
  ReplyQueued(conn, it != conns_.end() ? it->second.get() : nullptr, hdr, buf->size() - before, received_us, false,
              proto::OpCode::kGetData);
}

void Core::ReplyQueued(net::ConnId conn, Conn* c, const proto::ReplyHeader& hdr, size_t bytes, int64_t received_us,
                       bool close_after, proto::OpCode op) {
  if (close_after) {
    out_.back().close_after = true;
    if (c != nullptr) c->closing = true;
  }
  ++packets_sent_;
  metrics::Server().response_bytes.Add(static_cast<int64_t>(bytes));
  ChargeOutput(conn, bytes);
  if (c != nullptr) ++c->sent;
  if (received_us > 0) {
    int64_t lat = RecordLatency(received_us, op);
    if (c != nullptr) NoteReplyStats(*c, hdr, lat);
  }
}

void Core::SendEvent(net::ConnId conn, const proto::WatcherEvent& ev) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second->closing) return;
  std::string* buf = TailFor(out_, conn);
  const size_t before = buf->size();
  proto::ReplyHeader hdr{proto::xid::kNotification, -1, 0};
  proto::EncodeReply(hdr, ev, buf);
  ++packets_sent_;
  metrics::Server().watch_bytes.Add(static_cast<int64_t>(buf->size() - before));
  ChargeOutput(conn, buf->size() - before);
}

void Core::ChargeOutput(net::ConnId conn, size_t bytes) {
  size_t& total = pass_output_[conn];
  total += bytes;
  if (total <= opts_.max_output_bytes) return;
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  AV_LOG(kWarn, "closing {}: over {} bytes of replies not yet sent", it->second->peer(), opts_.max_output_bytes);
  it->second->closing = true;
  for (auto& o : out_) {
    if (o.conn != conn) continue;
    std::string().swap(o.bytes);
    o.close_after = false;
  }
  outbox_->CloseNow(conn);
}

void Core::Flush() {
  for (const auto& [conn, n] : consumed_) out_.push_back(net::ConnectionServer::Out{conn, {}, false, n});
  consumed_.clear();
  pass_output_.clear();
  if (!out_.empty()) {
    const int64_t t0 = trace::On() ? trace::NowUs() : 0;
    outbox_->Deliver(out_);
    if (t0 != 0) trace::Record(trace::kDeliver, trace::NowUs() - t0);
  }
  out_.clear();
}

// ZooKeeper's ServerStats.updateLatency: txn requests in updatelatency,
// every other one (pings included) in readlatency, in whole ms.
int64_t Core::RecordLatency(int64_t received_us, proto::OpCode op) {
  int64_t lat = clock_->SteadyUs() - received_us;
  if (lat < 0) lat = 0;
  metrics::ServerMetrics& m = metrics::Server();
  const bool data_op = op != proto::OpCode::kNotification;
  const bool txn = data_op && (IsWrite(op) || op == proto::OpCode::kCreateSession);
  (txn ? m.update_latency : m.read_latency).Add(lat / 1000);
  if (data_op) {
    m.request_latency_by_op.Get(proto::OpName(op)).Add(lat);
    trace::Record(txn ? trace::kWriteTotal : trace::kReadTotal, lat);
  }
  if (latency_min_us_ < 0 || lat < latency_min_us_) latency_min_us_ = lat;
  if (lat > latency_max_us_) latency_max_us_ = lat;
  latency_total_us_ += lat;
  ++latency_count_;
  return lat;
}

}  // namespace aviary::server
