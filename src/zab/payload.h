// The few payloads the state machine reads and writes inside QuorumPackets
// (LearnerInfo in FOLLOWERINFO/OBSERVERINFO, LEADERINFO's protocol version,
// ACKEPOCH's current epoch), taken from quorum/codec.h. Decoders return
// nullopt on short input, never crash.
#pragma once

#include "quorum/codec.h"

namespace aviary::zab {

inline constexpr int32_t kProtocolVersion = quorum::kLearnerProtocolVersion;
using quorum::DecodeInt32;
using quorum::DecodeLearnerInfo;
using quorum::EncodeInt32;
using quorum::EncodeLearnerInfo;

}  // namespace aviary::zab
