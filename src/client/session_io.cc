// The receive side of Session: waiting for a reply while answering the
// session's housekeeping (pings, watch events, auth and setWatches replies).
#include <poll.h>

#include <algorithm>
#include <chrono>

#include "client/session.h"
#include "proto/codec.h"

namespace aviary::client {

using proto::Err;
using proto::OpCode;

namespace {

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

int32_t PeekXid(const std::string& payload) {
  if (payload.size() < 4) return 0;
  const auto* b = reinterpret_cast<const unsigned char*>(payload.data());
  return static_cast<int32_t>(uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3]);
}

}  // namespace

void Session::PingIfDue() {
  if (!alive() || NowMs() - last_send_ms_ < negotiated_timeout_ms_ / 3) return;
  proto::Request ping;
  ping.header = {proto::xid::kPing, static_cast<int32_t>(OpCode::kPing)};
  Send(ping);
}

bool Session::WaitReply(int32_t xid, OpCode op, Result* out, int max_wait_ms) {
  const int64_t start = NowMs();
  const int read_timeout_ms = std::max(negotiated_timeout_ms_ * 2 / 3, 100);
  std::string payload;
  bool polled = false;  // read the socket at least once, even with max_wait_ms 0
  for (;;) {
    while (reader_.Next(&payload)) {
      if (Dispatch(payload, xid, op, out)) return true;
    }
    if (reader_.broken() || fd_ < 0) {
      LoseConnection();
      return false;
    }
    int64_t now = NowMs();
    if (max_wait_ms >= 0 && now - start >= max_wait_ms && polled) return false;
    if (now - last_recv_ms_ >= read_timeout_ms) {  // the server went silent
      LoseConnection();
      return false;
    }
    PingIfDue();
    if (fd_ < 0) return false;
    int64_t wait = std::min<int64_t>(negotiated_timeout_ms_ / 3 - (now - last_send_ms_), read_timeout_ms);
    if (max_wait_ms >= 0) wait = std::min<int64_t>(wait, max_wait_ms - (now - start));
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(std::max<int64_t>(wait, 0)));
    polled = true;
    if (rc > 0) {
      if (!FillReader(fd_)) {
        LoseConnection();
        return false;
      }
      last_recv_ms_ = NowMs();
    }
  }
}

// Handles one frame; true when it is the reply to want_xid (stored in *out).
bool Session::Dispatch(const std::string& payload, int32_t want_xid, OpCode op, Result* out) {
  int32_t xid = PeekXid(payload);
  proto::ReplyHeader hdr;
  proto::ResponseBody body;
  OpCode decode_op = xid == want_xid ? op : OpCode::kPing;
  if (!proto::DecodeReply(payload, decode_op, &hdr, &body)) {
    LoseConnection();  // a malformed frame: the stream can no longer be trusted
    return false;
  }
  if (hdr.zxid > 0) last_zxid_ = hdr.zxid;
  if (xid == proto::xid::kNotification) {
    auto& ev = std::get<proto::WatcherEvent>(body);
    ev.path = StripChroot(cs_.chroot, ev.path);
    watches_.OnEvent(ev);
    Emit(static_cast<proto::EventType>(ev.type), static_cast<proto::KeeperState>(ev.state), ev.path);
    return false;
  }
  if (xid == proto::xid::kAuth && hdr.err == static_cast<int32_t>(Err::kAuthFailed)) {
    state_ = State::kAuthFailed;
    Emit(proto::EventType::kNone, proto::KeeperState::kAuthFailed, "");
  }
  if (xid != want_xid) return false;
  out->err = static_cast<Err>(hdr.err);
  out->zxid = hdr.zxid;
  UnchrootReply(cs_.chroot, &body);
  out->body = std::move(body);
  return true;
}

}  // namespace aviary::client
