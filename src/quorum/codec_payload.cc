// QuorumPacket.data payloads (codec.h): DataOutputStream layouts, big-endian.
#include "proto/jute.h"
#include "quorum/codec.h"

namespace aviary::quorum {

using proto::jute::Reader;
using proto::jute::Writer;

std::string EncodeLearnerInfo(const LearnerInfo& li) {
  std::string out;
  Writer w(&out);
  w.WriteInt64(li.server_id);
  w.WriteInt32(li.protocol_version);
  w.WriteInt64(li.config_version);
  return out;
}

std::optional<LearnerInfo> DecodeLearnerInfo(std::string_view data) {
  if (data.size() < 8) return std::nullopt;
  Reader r(data);
  LearnerInfo li;
  li.server_id = r.ReadInt64();
  li.protocol_version = data.size() >= 12 ? r.ReadInt32() : kLegacyLearnerProtocolVersion;
  li.config_version = data.size() >= 20 ? r.ReadInt64() : 0;
  return li;
}

std::string EncodeInt32(int32_t v) {
  std::string out;
  Writer(&out).WriteInt32(v);
  return out;
}

std::optional<int32_t> DecodeInt32(std::string_view data) {
  if (data.size() < 4) return std::nullopt;
  return Reader(data).ReadInt32();
}

std::string EncodeInt64(int64_t v) {
  std::string out;
  Writer(&out).WriteInt64(v);
  return out;
}

std::optional<int64_t> DecodeInt64(std::string_view data) {
  if (data.size() < 8) return std::nullopt;
  return Reader(data).ReadInt64();
}

std::string EncodeForwardedRequest(const ForwardedRequest& req) {
  std::string out;
  out.reserve(16 + req.body.size());  // one allocation
  Writer w(&out);
  w.WriteInt64(req.session_id);
  w.WriteInt32(req.cxid);
  w.WriteInt32(req.type);
  out.append(req.body);
  return out;
}

std::optional<ForwardedRequest> DecodeForwardedRequest(std::string_view data) {
  if (data.size() < 16) return std::nullopt;
  Reader r(data);
  ForwardedRequest req;
  req.session_id = r.ReadInt64();
  req.cxid = r.ReadInt32();
  req.type = r.ReadInt32();
  req.body = std::string(data.substr(16));
  return req;
}

std::string EncodeSessionTouches(const std::vector<SessionTouch>& touches) {
  std::string out;
  Writer w(&out);
  for (const SessionTouch& t : touches) {
    w.WriteInt64(t.session_id);
    w.WriteInt32(t.timeout_ms);
  }
  return out;
}

std::optional<std::vector<SessionTouch>> DecodeSessionTouches(std::string_view data) {
  if (data.size() % 12 != 0) return std::nullopt;
  Reader r(data);
  std::vector<SessionTouch> touches;
  touches.reserve(data.size() / 12);
  while (r.remaining() > 0) {
    SessionTouch t;
    t.session_id = r.ReadInt64();
    t.timeout_ms = r.ReadInt32();
    touches.push_back(t);
  }
  return touches;
}

std::string EncodeRevalidateRequest(const RevalidateRequest& req) {
  std::string out;
  Writer w(&out);
  w.WriteInt64(req.session_id);
  w.WriteInt32(req.timeout_ms);
  return out;
}

std::optional<RevalidateRequest> DecodeRevalidateRequest(std::string_view data) {
  if (data.size() < 12) return std::nullopt;
  Reader r(data);
  RevalidateRequest req;
  req.session_id = r.ReadInt64();
  req.timeout_ms = r.ReadInt32();
  return req;
}

std::string EncodeRevalidateReply(const RevalidateReply& rep) {
  std::string out;
  Writer w(&out);
  w.WriteInt64(rep.session_id);
  w.WriteBool(rep.valid);
  return out;
}

std::optional<RevalidateReply> DecodeRevalidateReply(std::string_view data) {
  if (data.size() < 9) return std::nullopt;
  Reader r(data);
  RevalidateReply rep;
  rep.session_id = r.ReadInt64();
  rep.valid = r.ReadBool();
  return rep;
}

std::string EncodeInformAndActivate(const InformAndActivate& m) {
  std::string out = EncodeInt64(m.designated_leader);
  out.append(m.proposal);
  return out;
}

std::optional<InformAndActivate> DecodeInformAndActivate(std::string_view data) {
  std::optional<int64_t> leader = DecodeInt64(data);
  if (!leader) return std::nullopt;
  return InformAndActivate{*leader, std::string(data.substr(8))};
}

void EncodeSnapSignature(std::string* out) { Writer(out).WriteString(kSnapSignature); }

}  // namespace aviary::quorum
