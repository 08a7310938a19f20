// QuorumPeer: log housekeeping and the leader's streamed SNAP bodies
// (consensus thread, except RequestRoll).
#include "base/log.h"
#include "server/quorum_peer.h"
#include "storage/layout.h"
#include "storage/log_range.h"
#include "zab/sync_plan.h"

namespace aviary::server {

namespace {
constexpr size_t kSnapPieceBytes = 1u << 20;
// Bytes of the body queued in the transport at a time: the learner's reading
// speed paces the child (the transport's own cap is max_output_bytes).
constexpr size_t kSnapWindowBytes = 4u << 20;
// Packets the node sends a learner while its body is streaming wait here; a
// learner that cannot take them in this much is closed (it retries).
constexpr size_t kMaxHeldBytes = 64u << 20;
}  // namespace

void QuorumPeer::RequestRoll(int64_t /*next_zxid*/) { wal_.RequestRoll(); }

// Purges (ours or an operator's) remove old segments: the node may offer a
// DIFF only from where the files still start. The clamp keeps the node's
// invariant (it trims only committed txns); a log starting above the commit
// point is caught by SendDiff (covers_from). Then ZooKeeper's
// snapshotSizeFactor rule from the files' sizes (NoteSizeRule).
void QuorumPeer::NoteLogStart() {
  NoteSizeRule();
  int64_t oldest = -1;
  std::string error;
  if (!storage::OldestLoggedZxid(opts_.wal.dir, &oldest, &error)) {
    AV_LOG(kWarn, "ensemble: reading the log's start: {}", error);
    return;
  }
  if (oldest <= 0) return;
  const int64_t upto = std::min<int64_t>(oldest - 1, node_->committed());
  if (upto > 0) node_->TrimLog(upto);
}

// The log files a DIFF would read against snapshotSizeFactor x the newest
// snapshot (sizes on disk, preallocation included, as ZooKeeper measures
// its own files): the node sends SNAP to a learner further back
// (zab::DiffSizeFloor).
void QuorumPeer::NoteSizeRule() {
  std::vector<zab::LogFile> files;
  for (const storage::FileEntry& f : storage::ListSegments(opts_.wal.dir)) files.push_back({f.zxid, f.size});
  const std::vector<storage::FileEntry> snaps = storage::ListSnapshots(opts_.data_dir);
  const int64_t snap_bytes = snaps.empty() ? 0 : snaps.back().size;
  node_->SetDiffFloor(zab::DiffSizeFloor(std::move(files), snap_bytes, opts_.quorum.snapshot_size_factor));
}

// A packet for a learner whose SNAP body is still streaming waits.
bool QuorumPeer::HoldForSnap(zab::Outgoing& o) {
  auto it = snap_out_.find(o.conn);
  if (it == snap_out_.end()) return false;
  SnapOut& s = it->second;
  s.held_bytes += o.packet.data.size() + 32;
  s.held.push_back(std::move(o));
  if (s.held_bytes > kMaxHeldBytes) {
    AV_LOG(kWarn, "SNAP: {} bytes of packets wait behind the body; closing the learner", s.held_bytes);
    const peer::ConnId conn = it->first;
    DropSnap(conn);
    quorum_->Close(conn);
  }
  return true;
}

void QuorumPeer::DropSnap(peer::ConnId conn) { snap_out_.erase(conn); }

// Moves body pieces into the transport while its backlog for the learner
// is below the window; once the body is out, the held packets follow.
void QuorumPeer::PumpSnaps() {
  std::vector<std::pair<peer::ConnId, bool>> finished;  // conn, body complete
  for (auto& [conn, s] : snap_out_) {
    SnapStream::Status st = SnapStream::Status::kMore;
    while (quorum_->OutputBacklog(conn) < kSnapWindowBytes) {
      std::string piece;
      st = s.stream->Read(kSnapPieceBytes, &piece);
      if (!piece.empty() && quorum_->SendRaw(conn, piece) != peer::QuorumTransport::SendResult::kQueued) {
        st = SnapStream::Status::kFailed;
      }
      if (st != SnapStream::Status::kMore || piece.empty()) break;
    }
    if (st == SnapStream::Status::kMore) continue;
    if (st == SnapStream::Status::kFailed) {
      AV_LOG(kError, "SNAP: {}; closing the learner", s.stream->error().empty() ? "send failed" : s.stream->error());
      quorum_->Close(conn);
    } else {
      AV_LOG(kInfo, "ensemble: SNAP body sent ({} bytes)", s.stream->bytes_read());
    }
    finished.emplace_back(conn, st == SnapStream::Status::kDone);
  }
  for (const auto& [conn, done] : finished) {
    auto it = snap_out_.find(conn);
    std::vector<zab::Outgoing> held(std::make_move_iterator(it->second.held.begin()),
                                    std::make_move_iterator(it->second.held.end()));
    snap_out_.erase(it);
    if (!done) continue;
    node_->OnSnapSent(conn);
    SendPackets(held);
  }
}

}  // namespace aviary::server
