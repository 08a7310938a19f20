#include "server/follower_sequencer.h"

#include <algorithm>

#include "base/log.h"
#include "proto/codec.h"
#include "proto/jute.h"

namespace aviary::server {

namespace {
constexpr size_t kRequestHeaderBytes = 12;  // EncodeRequest writes a frame: length, xid, type
}  // namespace

int64_t FollowerSequencer::Write(const WriteRequest& w, int64_t /*wall_ms*/) {
  ForwardedRequest r;
  r.session_id = w.session_id;
  r.cxid = w.request->header.xid;
  r.type = w.request->header.type;
  if (w.raw_body == nullptr) {
    // The body as the client sent it: re-encoded from the decoded request.
    // (A closing session's requests are refused by the leader's own
    // session check, as here.)
    std::string payload;
    proto::EncodeRequest(*w.request, &payload);
    if (payload.size() >= kRequestHeaderBytes) r.body = payload.substr(kRequestHeaderBytes);
  } else {
    // It did not decode here and will not on the leader: the same bytes
    // give the leader the same error txn.
    r.body = *w.raw_body;
  }
  r.auth_ids = w.ctx->ids.vec();
  forwarder_->Forward(std::move(r));
  return 0;
}

void FollowerSequencer::CreateSession(int64_t session_id, int32_t timeout_ms, int64_t /*wall_ms*/) {
  ForwardedRequest r;
  r.session_id = session_id;
  r.type = static_cast<int32_t>(proto::OpCode::kCreateSession);
  proto::jute::Writer out(&r.body);
  out.WriteInt32(timeout_ms);
  forwarder_->Forward(std::move(r));
}

void FollowerSequencer::Forwarded(const ForwardedRequest& r, int64_t /*wall_ms*/) {
  AV_LOG(kWarn, "dropping a request forwarded to a follower (session {:#x}, cxid {})", r.session_id, r.cxid);
}

std::vector<int64_t> FollowerSequencer::TakeTouched() {
  std::vector<int64_t> out(touched_.begin(), touched_.end());
  touched_.clear();
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace aviary::server
