// Shared helpers of the zab::Node unit tests (node_test, liveness_test,
// sync_size_test): zxids and packets, reading a Ready, and driving a node
// into a role by hand. Header-only; one test thread.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "zab/node.h"
#include "zab/payload.h"

namespace aviary::zab::zabtest {

constexpr Zxid Z(int64_t epoch, int64_t counter) { return quorum::MakeZxid(epoch, counter); }

inline QuorumPacket P(PacketType type, Zxid zxid, std::string data = {}) {
  return {type, zxid, std::move(data), false, {}};
}

// Voters 1-3, no observer.
inline Config Three(ServerId self) {
  Config c;
  c.self = self;
  c.members = {{1, false}, {2, false}, {3, false}};
  return c;
}

inline std::vector<PacketType> Types(const Ready& r) {
  std::vector<PacketType> out;
  for (const Outgoing& o : r.packets) out.push_back(o.packet.type);
  return out;
}

inline bool Closed(const Ready& r, ConnId conn) {
  return std::find(r.close.begin(), r.close.end(), conn) != r.close.end();
}

// Takes one Ready, completing its fsyncs at once; returns it.
inline Ready Settle(Node& node) {
  Ready r = node.TakeReady();
  for (const StorageOp& op : r.storage) {
    if (op.kind == StorageOp::Kind::kFsync) node.OnFsyncDone(op.token);
  }
  return r;
}

// Voter 2 (FOLLOWING) and leader 3 (LEADING) tell `node` about leader 3's
// established vote (election epoch 4, peer epoch 1): it follows 3. Returns
// the Ready that asks the host to connect.
inline Ready LearnLeader3(Node& node) {
  Notification n;
  n.leader = 3;
  n.election_epoch = 4;
  n.peer_epoch = 1;
  n.state = PeerState::kFollowing;
  node.OnNotification(2, n);
  n.state = PeerState::kLeading;
  node.OnNotification(3, n);
  return node.TakeReady();
}

// `node` (server 3, LOOKING) gets voter 2's vote for 3 (election epoch 1,
// `zxid`, `peer_epoch`) and leads once the election's wait is over.
inline void ElectSelf(Node& node, Zxid zxid = 0, int64_t peer_epoch = 0) {
  Notification n;
  n.leader = 3;
  n.zxid = zxid;
  n.peer_epoch = peer_epoch;
  n.election_epoch = 1;
  node.OnNotification(2, n);
  node.Tick(1000);
}

}  // namespace aviary::zab::zabtest
