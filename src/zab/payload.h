// The few payloads the state machine reads and writes inside QuorumPackets
// (LearnerInfo in FOLLOWERINFO/OBSERVERINFO, LEADERINFO's protocol version,
// ACKEPOCH's current epoch), taken from quorum/codec.h. Decoders return
// nullopt on short input, never crash.
#pragma once

#include <string>
#include <string_view>

#include "quorum/codec.h"

namespace aviary::zab {

inline constexpr int32_t kProtocolVersion = quorum::kLearnerProtocolVersion;
using quorum::DecodeInt32;
using quorum::DecodeLearnerInfo;
using quorum::EncodeInt32;
using quorum::EncodeLearnerInfo;

// An Aviary leader's LEADERINFO carries this after the protocol version.
// ZooKeeper's learners read only the int32 (Learner.registerWithLeader) and
// ignore the rest; an Aviary learner learns that its leader is Aviary, so a
// digest mismatch means a diverged tree, not two implementations differing.
inline constexpr std::string_view kAviaryLeaderMark{"aviary\x00\x01", 8};

inline std::string EncodeLeaderInfo() { return EncodeInt32(kProtocolVersion) + std::string(kAviaryLeaderMark); }
inline bool LeaderInfoFromAviary(std::string_view data) {
  return data.size() >= 4 + kAviaryLeaderMark.size() && data.substr(4, kAviaryLeaderMark.size()) == kAviaryLeaderMark;
}

}  // namespace aviary::zab
