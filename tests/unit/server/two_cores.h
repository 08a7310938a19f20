// Two Cores in one process as an ensemble's leader (server 1) and follower
// (server 2) without the quorum protocol: the leader's commits are fed, in
// order, to the follower (BroadcastCommitter / FeedCommitter), and the
// follower's forwarded requests reach the leader's core through LeaderWire.
// Time is one ManualClock. Shared by the role, learner and local-session
// tests; each sets the roles it needs in its own fixture.
#pragma once

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "core_harness.h"

namespace aviary::server::testing {

// The follower's side of the wire. Every forwarded request is recorded and
// posted to the leader's core, except sync() when `hold_syncs` (the test then
// plays the leader's SYNC itself); REVALIDATE asks are recorded for the test
// to answer.
class LeaderWire final : public Forwarder {
 public:
  LeaderWire(CoreHarness* leader, bool hold_syncs) : leader_(leader), hold_syncs_(hold_syncs) {}
  void Forward(ForwardedRequest r) override {
    types.push_back(static_cast<proto::OpCode>(r.type));
    ++forwarded;
    if (hold_syncs_ && r.type == static_cast<int32_t>(proto::OpCode::kSync)) {
      syncs.emplace_back(r.session_id, r.cxid);
      return;
    }
    CoreEvent ev;
    ev.kind = CoreEvent::Kind::kForwarded;
    ev.forwarded = std::make_shared<ForwardedRequest>(std::move(r));
    leader_->Post(std::move(ev));
  }
  void Revalidate(int64_t session_id, int32_t timeout_ms) override { asks.emplace_back(session_id, timeout_ms); }

  std::vector<proto::OpCode> types;  // what was forwarded, in order
  int forwarded = 0;
  std::vector<std::pair<int64_t, int32_t>> syncs;  // (session, cxid), only when holding syncs
  std::vector<std::pair<int64_t, int32_t>> asks;   // (session, timeout_ms)

 private:
  CoreHarness* leader_;
  bool hold_syncs_;
};

struct TwoCores {
  base::ManualClock clock;
  BroadcastCommitter leader_committer;
  FeedCommitter follower_committer{&leader_committer.follower_feed};
  std::unique_ptr<CoreHarness> leader;
  std::unique_ptr<CoreHarness> follower;
  std::unique_ptr<LeaderWire> wire;

  // `tune` adjusts the options both cores start from (before the server ids
  // are set).
  explicit TwoCores(const std::function<void(CoreOptions&)>& tune = {}, bool hold_syncs = false) {
    CoreOptions lo = CoreHarness::DefaultOptions();
    lo.clock = &clock;
    if (tune) tune(lo);
    lo.server_id = 1;
    CoreOptions fo = lo;
    fo.server_id = 2;
    leader = std::make_unique<CoreHarness>(&leader_committer, lo);
    follower = std::make_unique<CoreHarness>(&follower_committer, fo);
    wire = std::make_unique<LeaderWire>(leader.get(), hold_syncs);
  }
  int64_t now() const { return clock.SteadyMs(); }
  // Runs follower and leader until nothing moves: the follower forwards, the
  // leader commits and applies, the follower applies what it was fed.
  void Pump() {
    for (int i = 0; i < 4; ++i) {
      follower->Run(now());
      leader->Run(now());
    }
  }
  // Opens `conn` on `h` and connects a new session; its ConnectResponse.
  // Without `pump` only `h` runs once (the answer must come at once).
  proto::ConnectResponse NewSession(CoreHarness& h, net::ConnId conn, int32_t timeout_ms = 10000, bool pump = true) {
    h.Open(conn);
    h.Connect(conn, timeout_ms);
    if (pump) {
      Pump();
    } else {
      h.Run(now());
    }
    auto items = h.Take(conn);
    EXPECT_EQ(items.size(), 1u);
    if (items.empty() || items[0].kind != Item::Kind::kConnect) return {};
    return items[0].connect;
  }
};

}  // namespace aviary::server::testing
