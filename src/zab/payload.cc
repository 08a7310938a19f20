#include "zab/payload.h"

namespace aviary::zab {
namespace {

void PutBe(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetBe(const std::string& in, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[pos + i]);
  return v;
}

}  // namespace

std::string EncodeLearnerInfo(const quorum::LearnerInfo& info) {
  std::string out;
  PutBe(&out, static_cast<uint64_t>(info.server_id), 8);
  PutBe(&out, static_cast<uint32_t>(info.protocol_version), 4);
  PutBe(&out, static_cast<uint64_t>(info.config_version), 8);
  return out;
}

// Learner.registerWithLeader sends 20 bytes; pre-3.4 learners sent only the id.
std::optional<quorum::LearnerInfo> DecodeLearnerInfo(const std::string& data) {
  quorum::LearnerInfo info;
  if (data.size() < 8) return std::nullopt;
  info.server_id = static_cast<int64_t>(GetBe(data, 0, 8));
  info.protocol_version = 0;
  if (data.size() >= 12) info.protocol_version = static_cast<int32_t>(GetBe(data, 8, 4));
  if (data.size() >= 20) info.config_version = static_cast<int64_t>(GetBe(data, 12, 8));
  return info;
}

std::string EncodeInt32(int32_t v) {
  std::string out;
  PutBe(&out, static_cast<uint32_t>(v), 4);
  return out;
}

std::optional<int32_t> DecodeInt32(const std::string& data) {
  if (data.size() < 4) return std::nullopt;
  return static_cast<int32_t>(GetBe(data, 0, 4));
}

}  // namespace aviary::zab
