// The few small payloads the state machine reads and writes inside
// QuorumPackets: LearnerInfo (FOLLOWERINFO/OBSERVERINFO data), the protocol
// version int of LEADERINFO and the current-epoch int of ACKEPOCH, all
// big-endian as Java's DataOutput / ByteBuffer write them. Kept here, at the
// edge of the node, until quorum/codec.h provides the shared ones.
// Pure functions; decoders return nullopt on short input, never crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "quorum/messages.h"

namespace aviary::zab {

inline constexpr int32_t kProtocolVersion = 0x10000;

std::string EncodeLearnerInfo(const quorum::LearnerInfo& info);
std::optional<quorum::LearnerInfo> DecodeLearnerInfo(const std::string& data);
std::string EncodeInt32(int32_t v);
std::optional<int32_t> DecodeInt32(const std::string& data);

}  // namespace aviary::zab
