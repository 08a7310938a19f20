// QuorumAuthPacket codec (codec.h): quorum SASL between ensemble members.
#include "proto/jute.h"
#include "quorum/codec.h"

namespace aviary::quorum {
namespace {

int64_t BigEndian64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(in[i]);
  return static_cast<int64_t>(v);
}

int32_t BigEndian32(std::string_view in) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(in[i]);
  return static_cast<int32_t>(v);
}

}  // namespace

void EncodeQuorumAuthPacket(const QuorumAuthPacket& p, std::string* out) {
  proto::jute::Writer w(out);
  w.WriteInt64(p.magic);
  w.WriteInt32(p.status);
  w.WriteBuffer(p.token, p.token_null);
}

ParseStatus DecodeQuorumAuthPacket(std::string_view in, QuorumAuthPacket* out, size_t* consumed) {
  constexpr size_t kHeader = 8 + 4 + 4;
  if (in.size() < kHeader) return ParseStatus::kNeedMore;
  const int32_t len = BigEndian32(in.substr(12, 4));
  if (len < -1 || (len > 0 && static_cast<size_t>(len) > kMaxQuorumAuthTokenBytes)) return ParseStatus::kBad;
  const size_t body = len > 0 ? static_cast<size_t>(len) : 0;
  if (in.size() - kHeader < body) return ParseStatus::kNeedMore;
  out->magic = BigEndian64(in.substr(0, 8));
  out->status = BigEndian32(in.substr(8, 4));
  out->token_null = len == -1;
  out->token.assign(in.substr(kHeader, body));
  *consumed = kHeader + body;
  return ParseStatus::kOk;
}

ParseStatus PeekQuorumAuth(std::string_view in) {
  if (in.size() < 8) return ParseStatus::kNeedMore;
  return BigEndian64(in.substr(0, 8)) == kQuorumAuthMagic ? ParseStatus::kOk : ParseStatus::kBad;
}

}  // namespace aviary::quorum
