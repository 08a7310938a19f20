// The messages of Apache ZooKeeper's quorum protocol, as plain structs.
//
// Two protocols run between servers (facts from ZooKeeper's zookeeper.jute
// and server/quorum/*.java; the encoders/decoders live in quorum/codec.*):
//  - fast leader election on the election port: after a connection
//    handshake (InitialMessage) every message is an int32-length-prefixed
//    Notification;
//  - ZAB on the quorum port: a stream of jute QuorumPacket records (no
//    outer length prefix) between a learner and the leader.
// Txn payloads inside packets (PROPOSAL, INFORM, DIFF pairs, SNAP bodies)
// are opaque bytes here; zkformat/ encodes and decodes them.
//
// Pure data: no I/O, no threads. The consensus state machine (zab/) consumes
// and produces these.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/records.h"

namespace aviary::quorum {

using ServerId = int64_t;
using Zxid = int64_t;

inline constexpr Zxid MakeZxid(int64_t epoch, int64_t counter) { return (epoch << 32) | (counter & 0xffffffffLL); }
inline constexpr int64_t EpochOf(Zxid zxid) { return zxid >> 32; }
inline constexpr int64_t CounterOf(Zxid zxid) { return zxid & 0xffffffffLL; }

// QuorumPacket.type values (ZooKeeper's Leader.java).
enum class PacketType : int32_t {
  kRequest = 1,
  kProposal = 2,
  kAck = 3,
  kCommit = 4,
  kPing = 5,
  kRevalidate = 6,
  kSync = 7,
  kInform = 8,
  kCommitAndActivate = 9,
  kNewLeader = 10,
  kFollowerInfo = 11,
  kUpToDate = 12,
  kDiff = 13,
  kTrunc = 14,
  kSnap = 15,
  kObserverInfo = 16,
  kLeaderInfo = 17,
  kAckEpoch = 18,
  kInformAndActivate = 19,
};

// jute: class QuorumPacket { int type; long zxid; buffer data; vector<Id> authinfo; }
struct QuorumPacket {
  PacketType type = PacketType::kPing;
  Zxid zxid = 0;
  std::string data;
  bool data_null = false;  // jute buffer of length -1
  std::vector<proto::Id> authinfo;
  bool operator==(const QuorumPacket&) const = default;
};

// jute: class LearnerInfo { long serverid; int protocolVersion; long configVersion; }
// Carried in FOLLOWERINFO / OBSERVERINFO data.
struct LearnerInfo {
  ServerId server_id = 0;
  int32_t protocol_version = 0x10000;
  int64_t config_version = 0;
  bool operator==(const LearnerInfo&) const = default;
};

// QuorumPeer.ServerState as sent in notifications.
enum class PeerState : int32_t { kLooking = 0, kFollowing = 1, kLeading = 2, kObserving = 3 };

// One fast-leader-election notification (FastLeaderElection.buildMsg).
struct Notification {
  PeerState state = PeerState::kLooking;
  ServerId leader = 0;  // proposed (or established) leader
  Zxid zxid = 0;        // proposed leader's last zxid
  int64_t election_epoch = 0;
  int64_t peer_epoch = 0;  // proposed leader's epoch
  int32_t version = 2;     // notification format version
  std::string config;      // QuorumVerifier text (dynamic-config form); may be empty
  bool operator==(const Notification&) const = default;
};

// The election connection handshake (QuorumCnxManager.InitialMessage), sent
// once by the side that opens an election connection. Protocol versions are
// negative so that a pre-3.5 peer's first long (its bare, non-negative server
// id) can be told apart.
inline constexpr int64_t kElectionProtocolV1 = -65536;  // one "host:port"
inline constexpr int64_t kElectionProtocolV2 = -65535;  // "h1:p1|h2:p2|..."
// QuorumPeer.OBSERVER_ID: the id an old-style observer announces.
inline constexpr ServerId kObserverAnnouncedId = INT64_MAX;

struct ElectionAddress {
  std::string host;  // as sent (an IPv6 literal without brackets)
  int32_t port = 0;
  bool operator==(const ElectionAddress&) const = default;
};

struct InitialMessage {
  int64_t protocol_version = kElectionProtocolV1;  // or a bare sid (legacy, >= 0)
  ServerId sid = 0;
  std::vector<ElectionAddress> addresses;  // empty for the legacy form
  bool operator==(const InitialMessage&) const = default;
};

// Small payloads carried in QuorumPacket.data (DataOutputStream layouts).

// REQUEST (learner -> leader): long sessionId, int cxid, int type, then the
// client request body as it arrived; auth ids travel in QuorumPacket.authinfo.
struct ForwardedRequest {
  int64_t session_id = 0;
  int32_t cxid = 0;
  int32_t type = 0;
  std::string body;
  bool operator==(const ForwardedRequest&) const = default;
};

// One entry of a learner's PING reply: long sessionId, int timeout (ms).
struct SessionTouch {
  int64_t session_id = 0;
  int32_t timeout_ms = 0;
  bool operator==(const SessionTouch&) const = default;
};

// REVALIDATE learner -> leader: long sessionId, int timeout.
struct RevalidateRequest {
  int64_t session_id = 0;
  int32_t timeout_ms = 0;
  bool operator==(const RevalidateRequest&) const = default;
};

// REVALIDATE leader -> learner: long sessionId, boolean valid.
struct RevalidateReply {
  int64_t session_id = 0;
  bool valid = false;
  bool operator==(const RevalidateReply&) const = default;
};

}  // namespace aviary::quorum
