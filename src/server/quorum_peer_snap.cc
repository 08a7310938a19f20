// QuorumPeer: SNAP in both directions (consensus thread). The learner
// installs the body a SnapReceiver parsed (Aviary snapshot file first, then
// the log and the Core); the leader forks a child on the core thread at the
// commit point, while the consensus thread waits (so nothing more is
// committed meanwhile), and streams its output (quorum_peer_stream.cc).
#include <algorithm>
#include <chrono>
#include <future>

#include "base/log.h"
#include "server/quorum_peer.h"
#include "storage/snapshot.h"
#include "zkformat/snapshot.h"

namespace aviary::server {

bool QuorumPeer::OnCore(std::function<void(Core&, int64_t)> fn) {
  FlushCore();  // the core applies what was committed before it runs fn
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> f = done->get_future();
  core_->PostCall([fn = std::move(fn), done](Core& c, int64_t now_ms) {
    fn(c, now_ms);
    done->set_value();
  });
  while (f.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (stop_.load()) return false;
  }
  return true;
}

namespace {

bool WriteAviarySnapshot(const std::string& data_dir, int64_t zxid, const tree::DataTree& tree,
                         const std::vector<storage::SessionRecord>& sessions, std::string* error) {
  storage::SnapshotBuilder b(zxid, sessions);
  storage::SnapshotFileWriter w;
  if (!w.Begin(data_dir, zxid, error)) return false;
  bool done = false;
  while (!done) {
    std::string chunk;
    done = b.Step(tree, 4096, &chunk);
    if (!w.Write(chunk, error)) return false;
  }
  return w.Write(b.Finish(), error) && w.Commit(error);  // the trailer: without it the file is invalid
}

}  // namespace

void QuorumPeer::InstallSnapshot(int64_t zxid) {
  if (!snap_ || !snap_->ok()) Fatal("SNAP install without a received snapshot");
  std::string error;
  if (wal_.last_zxid() > zxid && !wal_.TruncateAfter(zxid, opts_.data_dir, &error)) Fatal("log truncate: " + error);
  if (!WriteAviarySnapshot(opts_.data_dir, zxid, snap_->tree(), snap_->sessions(), &error)) {
    Fatal("writing the leader's snapshot: " + error);
  }
  if (!wal_.Roll(zxid + 1, &error)) Fatal("log roll: " + error);
  std::shared_ptr<SnapReceiver> snap(std::move(snap_));
  OnCore([snap, zxid](Core& c, int64_t now_ms) {
    c.InstallSnapshot(snap->tree(), snap->sessions(), zxid, now_ms);
    // A ZooKeeper leader's snapshot is fuzzy: the txns after its zxid may
    // be reflected in it already, until the window closes (CommitThrough).
    c.mutable_state().SetFuzzyThrough(txn::StateMachine::kFuzzyOpen);
  });
  snap_window_open_ = true;
  logged_.clear();
  proposed_.clear();
  applied_ = zxid;
}

// SNAP(to), then ZooKeeper's snapshot body of the state applied through
// `to` and "BenWasHere", streamed by PumpSnaps from a child forked on the
// core thread (SnapStream: the core stalls for the fork only, nothing holds
// a copy of the tree); the node's later packets for the learner wait.
void QuorumPeer::SendSnap(const zab::Outgoing& o) {
  struct Started {
    int64_t at = -1;
    std::unique_ptr<SnapStream> stream;
    std::string error;
  };
  auto started = std::make_shared<Started>();
  const int64_t to = o.to;
  if (!OnCore([started, to](Core& c, int64_t) {
        started->at = c.last_zxid();
        if (started->at != to) return;
        std::vector<storage::SessionRecord> sessions;
        for (const auto& [id, timeout_ms] : c.state().sessions()) sessions.push_back({id, timeout_ms});
        std::sort(sessions.begin(), sessions.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        started->stream = SnapStream::Start(c.tree(), sessions, &started->error);
      })) {
    return;
  }
  if (started->at != o.to) {
    AV_LOG(kError, "SNAP: the state is at {:#x}, not {:#x}: closing the learner", started->at, o.to);
    return quorum_->Close(o.conn);
  }
  if (!started->stream) {
    AV_LOG(kError, "SNAP at {:#x}: {}: closing the learner", o.to, started->error);
    return quorum_->Close(o.conn);
  }
  AV_LOG(kInfo, "ensemble: sending a SNAP at {:#x}", o.to);
  quorum_->Send(o.conn, {quorum::PacketType::kSnap, o.to, {}, false, {}});
  snap_out_[o.conn].stream = std::move(started->stream);
  PumpSnaps();
}

}  // namespace aviary::server
