// Core in an ensemble: role changes, learners' session touches, and a
// follower's touches for the leader (core.h: ServingRole).
#include "base/log.h"
#include "server/core.h"
#include "server/core_state.h"
#include "server/idle_sequencer.h"

namespace aviary::server {

void Core::PostRole(ServingRole role, int64_t epoch) {
  std::vector<CoreEvent> evs(1);
  evs[0].kind = CoreEvent::Kind::kRole;
  evs[0].role = role;
  evs[0].role_epoch = epoch;
  Post(evs);
}

void Core::PostTouches(std::vector<int64_t> sessions) {
  if (sessions.empty()) return;
  std::vector<CoreEvent> evs(1);
  evs[0].kind = CoreEvent::Kind::kTouches;
  evs[0].touched = std::move(sessions);
  Post(evs);
}

void Core::PostCall(std::function<void(Core&, int64_t)> fn) {
  std::vector<CoreEvent> evs(1);
  evs[0].kind = CoreEvent::Kind::kCall;
  evs[0].call = std::move(fn);
  Post(evs);
}

void Core::InstallSnapshot(tree::DataTree& tree, const std::vector<storage::SessionRecord>& sessions, int64_t zxid,
                           int64_t now_ms) {
  AV_LOG(kInfo, "installing the leader's snapshot at {:#x} ({} nodes, {} sessions)", zxid, tree.NodeCount(),
         sessions.size());
  for (const auto& [id, s] : session_state_) sessions_.Remove(id);
  for (const auto& [id, timeout_ms] : sm_.sessions()) sessions_.Remove(id);
  for (auto& [id, s] : session_state_) DropQueue(s);
  session_state_.clear();
  creating_.clear();
  local_sessions_.clear();
  upgrading_.clear();
  tree_.Swap(tree);
  LoadRecovered(zxid, sessions, now_ms);
}

// ZooKeeper shuts its ZooKeeperServer down at every role change: every
// client connection closes (the clients reconnect, keeping their sessions),
// every pending change is forgotten, the local sessions of read-only mode
// end. Then the new role's sequencer runs.
void Core::ChangeRole(ServingRole role, int64_t epoch, int64_t now_ms) {
  ApplyCommitted(now_ms);  // everything committed before the change
  AV_LOG(kInfo, "role change: {} (epoch {}), closing {} connections", static_cast<int>(role), epoch, conns_.size());
  std::vector<net::ConnId> ids;
  for (const auto& [id, c] : conns_) ids.push_back(id);
  for (net::ConnId id : ids) {
    outbox_->CloseNow(id);
    OnClosed(id);
  }
  for (auto& [id, s] : session_state_) DropQueue(s);
  creating_.clear();
  revalidating_.clear();  // their connections were closed above
  DropLocalSessions();
  sequencer_->Reset(applied_zxid_);
  follower_ = nullptr;
  // Strict outcome checks only on txns this server prepares (leader); a
  // learner, or a member not serving, applies the leader's txns tolerantly.
  sm_.SetMode(role == ServingRole::kLeader || role == ServingRole::kStandalone ? txn::ApplyMode::kStrict
                                                                               : txn::ApplyMode::kLearner);
  if (role == ServingRole::kNotServing || role == ServingRole::kReadOnly) {
    // No ZooKeeperServer of a leader or learner runs now: nothing is
    // proposed, forwarded or expired until the next role.
    SetSequencer(std::make_unique<IdleSequencer>());
  } else if (role == ServingRole::kLeader) {
    auto s = MakeLeaderSequencer();
    s->SetEpoch(epoch);
    if (opts_.config.local_sessions_enabled) s->EnableLocalSessions(opts_.server_id, &local_sessions_);
    SetSequencer(std::move(s));
    // Every session restarts its timeout under the new leader, as ZooKeeper
    // (the learners' touches keep the ones they serve alive from now on).
    for (const auto& [id, timeout_ms] : sm_.sessions()) sessions_.Touch(id, now_ms, timeout_ms);
  } else if (role == ServingRole::kFollower && forwarder_ != nullptr) {
    auto f = std::make_unique<FollowerSequencer>(forwarder_);
    follower_ = f.get();
    SetSequencer(std::move(f));
  }
  role_.store(role, std::memory_order_relaxed);
}

void Core::TouchFromLearners(const std::vector<int64_t>& sessions, int64_t now_ms) {
  if (role_.load(std::memory_order_relaxed) != ServingRole::kLeader) return;
  for (int64_t id : sessions) sessions_.Touch(id, now_ms);
}

void Core::SendTouches() {
  if (follower_ == nullptr || !touch_sink_) return;
  std::vector<int64_t> ids = follower_->TakeTouched();
  if (ids.empty()) return;
  std::vector<std::pair<int64_t, int32_t>> touches;
  for (int64_t id : ids) {
    auto it = sm_.sessions().find(id);
    if (it != sm_.sessions().end()) touches.emplace_back(id, it->second);
  }
  touch_sink_(std::move(touches));
}

}  // namespace aviary::server
