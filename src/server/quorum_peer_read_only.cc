// QuorumPeer: read-only mode's timer (readonlymode.enabled), on the
// consensus thread. As ZooKeeper's QuorumPeer.run in its LOOKING case: a
// member that is still LOOKING max(2000 ms, tickTime) after it started
// looking serves read-only clients (ServingRole::kReadOnly, the Core's
// core_read_only.cc) until the election ends; then NoteRole's role change
// (not serving while it syncs) closes their connections, as ZooKeeper's
// ReadOnlyZooKeeperServer.shutdown does, and the timer starts again the
// next time the member looks for a leader.
#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "server/quorum_peer.h"

namespace aviary::server {

namespace {
constexpr int64_t kMinReadOnlyDelayMs = 2000;  // ZooKeeper's lower bound on the grace period
}  // namespace

int64_t ReadOnlyDelayMs(const config::QuorumConfig& q) { return std::max<int64_t>(kMinReadOnlyDelayMs, q.tick_ms); }

void QuorumPeer::ResetReadOnlyTimer() {
  looking_since_ms_ = -1;
  read_only_ = false;
}

void QuorumPeer::MaybeServeReadOnly() {
  if (!opts_.quorum.readonly_mode_enabled || read_only_) return;
  if (role_ != zab::Role::kLooking || serving_) {
    looking_since_ms_ = -1;
    return;
  }
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  if (looking_since_ms_ < 0) {
    looking_since_ms_ = now_ms;
    return;
  }
  if (now_ms - looking_since_ms_ < ReadOnlyDelayMs(opts_.quorum)) return;
  AV_LOG(kInfo, "ensemble: still looking for a leader after {} ms: serving read-only clients",
         now_ms - looking_since_ms_);
  read_only_ = true;
  core_->PostRole(ServingRole::kReadOnly, 0);
}

}  // namespace aviary::server
