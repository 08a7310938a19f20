// Fuzzy snapshots and recovery hand-off on the core thread. A snapshot is
// built a slice at a time between request batches, so writes go on while it
// is taken; the log is rolled at its start and recovery replays every txn
// after its zxid over it (apply is idempotent over such a snapshot).
#include <algorithm>

#include "base/log.h"
#include "server/core_state.h"

namespace aviary::server {

void Core::LoadRecovered(int64_t last_zxid, const std::vector<storage::SessionRecord>& sessions, int64_t now_ms) {
  applied_zxid_ = last_zxid;
  sequencer_->Reset(last_zxid);
  sm_.set_last_zxid(last_zxid);
  sm_.ClearSessions();
  for (const auto& rec : sessions) {
    sm_.PutSession(rec.id, rec.timeout_ms);
    // Every committed session comes back, past aviary.maxSessions if need
    // be: dropping one would orphan its ephemerals. A timeout <= 0 (an owner
    // restored by --repair, timeout unknown) expires as soon as allowed.
    const int32_t timeout_ms = rec.timeout_ms > 0 ? rec.timeout_ms : sessions_.min_timeout_ms();
    if (!sessions_.Restore(rec.id, timeout_ms, now_ms)) continue;
    session_state_[rec.id] = Session{};
    session_state_[rec.id].id = rec.id;
  }
  if (sessions_.size() > sessions_.max_sessions()) {
    AV_LOG(kWarn, "recovered {} sessions, more than aviary.maxSessions={}: new sessions are refused until some close",
           sessions_.size(), sessions_.max_sessions());
  }
}

bool Core::SnapshotPass(int64_t now_ms) {
  MaybeStartSnapshot(now_ms);
  return StepSnapshot();
}

void Core::MaybeStartSnapshot(int64_t now_ms) {
  if (snapshotter_ == nullptr) return;
  snapshotter_->Reap();
  if (opts_.purge_interval_ms > 0 && now_ms - last_purge_ms_ >= opts_.purge_interval_ms) {
    last_purge_ms_ = now_ms;
    snapshotter_->RequestPurge();
  }
  if (snapshot_ || opts_.snap_count <= 0 || snapshotter_->Busy()) return;
  if (snapshot_threshold_ == 0) {
    // xorshift: a per-server random point in [snapCount/2, snapCount).
    rng_state_ ^= static_cast<uint64_t>(now_ms) + static_cast<uint64_t>(opts_.server_id);
    rng_state_ ^= rng_state_ << 13;
    rng_state_ ^= rng_state_ >> 7;
    rng_state_ ^= rng_state_ << 17;
    int64_t half = std::max<int64_t>(1, opts_.snap_count / 2);
    snapshot_threshold_ = half + static_cast<int64_t>(rng_state_ % static_cast<uint64_t>(half));
  }
  if (txns_since_snapshot_ < snapshot_threshold_) return;
  txns_since_snapshot_ = 0;
  snapshot_threshold_ = 0;
  committer_->RequestRoll(std::max(applied_zxid_, sequencer_->last_proposed()) + 1);
  // A session is live until its closeSession txn is applied: closing ones
  // are included, or a crash before their close is durable would leave
  // their ephemerals with no session to expire them.
  // The state machine's table holds exactly those (written sorted by id).
  std::vector<storage::SessionRecord> live;
  live.reserve(sm_.sessions().size());
  for (const auto& [id, timeout_ms] : sm_.sessions()) live.push_back(storage::SessionRecord{id, timeout_ms});
  std::sort(live.begin(), live.end(),
            [](const storage::SessionRecord& a, const storage::SessionRecord& b) { return a.id < b.id; });
  AV_LOG(kInfo, "starting snapshot at zxid {:#x} ({} nodes, {} sessions)", applied_zxid_, tree_.NodeCount(),
         live.size());
  if (opts_.fork_snapshots && snapshotter_->Fork(tree_, applied_zxid_, live)) return;
  // Fuzzy: the core only walks and encodes; the snapshotter thread
  // compresses, checksums and writes each block.
  snapshot_ =
      std::make_unique<storage::SnapshotBuilder>(applied_zxid_, std::move(live), storage::snapblock::Codec::kZstd,
                                                 /*deferred_seal=*/true);
  snapshotter_->Begin(applied_zxid_);
}

bool Core::StepSnapshot() {
  if (!snapshot_) return false;
  if (snapshotter_->QueuedBytes() > opts_.snapshot_max_queued_bytes) return true;  // don't outrun the writer
  std::string chunk;
  // A slice is bounded in nodes and in time, so a request that arrives
  // while it runs waits at most about snapshot_slice_us.
  bool done = snapshot_->Step(tree_, opts_.snapshot_nodes_per_step, &chunk, opts_.snapshot_slice_us);
  if (!chunk.empty()) snapshotter_->Write(std::move(chunk));
  for (storage::RawBlock& b : snapshot_->TakeRawBlocks()) snapshotter_->WriteBlock(std::move(b));
  if (!done) return true;
  AV_LOG(kInfo, "snapshot {:#x}: {} nodes walked on the core in {} slices, {} ms in all, longest {} us",
         snapshot_->zxid(), snapshot_->nodes_written(), snapshot_->steps(), snapshot_->step_us_total() / 1000,
         snapshot_->step_us_max());
  std::string trailer = snapshot_->Finish();
  for (storage::RawBlock& b : snapshot_->TakeRawBlocks()) snapshotter_->WriteBlock(std::move(b));
  snapshotter_->Finish(std::move(trailer));
  snapshot_.reset();
  return false;
}

}  // namespace aviary::server
