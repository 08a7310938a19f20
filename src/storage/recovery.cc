#include "storage/recovery.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "storage/ephemeral_owners.h"
#include "storage/segment_repair.h"
#include "storage/wal_truncate.h"
#include "tree/path.h"

namespace aviary::storage {
namespace {

constexpr size_t kProgressEvery = 100000;

bool Follows(int64_t prev, int64_t next) { return ZxidFollows(prev, next); }

void Progress(const RecoveryOptions& o, const std::string& line) {
  if (o.progress) o.progress(line);
}

void Warn(RecoveryResult* r, std::string w) {
  AV_LOG(kWarn, "recovery: {}", w);
  r->warnings.push_back(std::move(w));
}

void RemoveTmpSnapshots(const std::string& snap_dir, RecoveryResult* r) {
  const std::string dir = VersionDir(snap_dir);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> tmps;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    int64_t z;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0 &&
        ParseSnapshotName(std::string_view(name).substr(0, name.size() - 4), &z)) {
      tmps.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  for (const std::string& t : tmps) {
    unlink(t.c_str());
    Warn(r, "removed incomplete snapshot " + t);
  }
}

// The one place a decoded snapshot node enters the tree. The file is in
// pre-order, so the parent of a node is on the chain of its ancestors loaded
// last (`chain_`: the length of each one's path, a prefix of `last_`, and
// its node): such a node goes in through the tree's bulk path
// (DataTree::LoadNode: no path hashed or looked up, nothing allocated
// here); any other (the root, a fuzzy snapshot's out-of-order node) through
// RestoreNode.
class NodeLoader {
 public:
  explicit NodeLoader(tree::DataTree* tree) : tree_(tree) {}

  proto::Err Insert(const NodeView& n) {
    std::string_view parent = tree::ParentOf(n.path);
    if (parent.empty()) parent = "/";
    while (!chain_.empty() &&
           (chain_.back().first != parent.size() || std::string_view(last_).substr(0, parent.size()) != parent)) {
      chain_.pop_back();
    }
    const tree::Node* node = nullptr;
    if (n.path != "/" && !chain_.empty()) {
      node = tree_->LoadNode(chain_.back().second, tree::BaseName(n.path), n.stat, n.kind, n.data, n.data_null, *n.acl);
      if (node == nullptr) return proto::Err::kBadArguments;
    } else {
      tree::Node value;
      value.set_persisted(n.stat);
      value.data = n.data;
      value.kind = n.kind;
      value.data_null = n.data_null;
      const std::string path(n.path);
      const proto::Err e = tree_->RestoreNode(path, value, *n.acl);
      if (e != proto::Err::kOk) return e;
      node = tree_->Find(path);
      chain_.clear();
    }
    last_.assign(n.path);
    if (node != nullptr) chain_.emplace_back(n.path.size(), node);
    return proto::Err::kOk;
  }

 private:
  tree::DataTree* tree_;
  std::string last_;  // path of the node inserted last
  std::vector<std::pair<size_t, const tree::Node*>> chain_;
};

// Loads nodes into the tree; with `lenient` (repair) keeps what parses.
bool LoadSnapshot(const RecoveryOptions& o, const std::string& path, bool lenient, txn::StateMachine* sm,
                  RecoveryResult* r) {
  tree::DataTree* tree = &sm->tree();
  SnapshotReader reader;
  reader.set_threaded(true);  // format 3: blocks expanded and decoded on the other core
  std::string error;
  if (!reader.Open(path, &error)) {
    r->error = error;
    return false;
  }
  NodeView n;
  NodeLoader loader(tree);
  while (reader.Next(&n)) {
    const proto::Err e = loader.Insert(n);
    if (e != proto::Err::kOk) {
      const std::string msg = path + ": cannot restore node " + std::string(n.path) + " (err " +
                              std::to_string(static_cast<int>(e)) + ") before offset " +
                              std::to_string(reader.offset());
      if (!lenient) {
        r->error = msg;
        return false;
      }
      Warn(r, "repair: skipped " + msg);
      continue;
    }
    if (++r->nodes_loaded % kProgressEvery == 0) {
      Progress(o, "loaded " + std::to_string(r->nodes_loaded) + " nodes from " + path);
    }
  }
  if (!reader.done()) {
    if (!lenient) {
      r->error = reader.error();
      return false;
    }
    Warn(r, "repair: kept " + std::to_string(r->nodes_loaded) + " nodes of damaged snapshot (" + reader.error() + ")");
  }
  tree->RebuildQuotas();  // quota roots and stats, as ZooKeeper's setupQuota at snapshot load
  r->swept = reader.swept();
  r->snapshot_zxid = reader.header().zxid;
  r->last_zxid = reader.header().zxid;
  r->sessions = reader.header().sessions;
  sm->set_last_zxid(r->last_zxid);
  sm->ClearSessions();
  for (const SessionRecord& s : r->sessions) sm->PutSession(s.id, s.timeout_ms);
  return true;
}

// Either fails (returns false with r->error) or, with repair, cuts the log
// at (segment i, offset) and returns true; replay must then stop.
bool Corrupt(const RecoveryOptions& o, const std::vector<FileEntry>& segs, size_t i, int64_t offset,
             const std::string& msg, RecoveryResult* r) {
  if (!o.repair) {
    r->error = msg;
    return false;
  }
  AV_LOG(kError, "recovery REPAIR: {}; discarding the log from there on", msg);
  Warn(r, "repair: " + msg + "; replay stopped there");
  for (std::string& w : CutLog(segs, i, offset)) Warn(r, std::move(w));
  return true;
}

// A truncation (ZAB's TRUNC) interrupted by a crash is completed before
// anything is read, so that no txn after its zxid is replayed.
bool FinishTruncation(const RecoveryOptions& o, RecoveryResult* r) {
  int64_t zxid = -1;
  TruncateReport report;
  std::string error;
  if (!CompletePendingTruncate(o.snap_dir, o.log_dir, &zxid, &report, &error)) {
    r->error = "completing an interrupted log truncation: " + error;
    return false;
  }
  if (zxid >= 0) {
    Warn(r, "completed an interrupted log truncation after zxid " + std::to_string(zxid) + " (" +
                std::to_string(report.txns_removed) + " txns, " + std::to_string(report.deleted.size()) +
                " files removed)");
  }
  return true;
}

}  // namespace

RecoveryResult Recover(const RecoveryOptions& o, tree::DataTree* tree) {
  txn::StateMachine sm(tree);
  return Recover(o, &sm);
}

RecoveryResult Recover(const RecoveryOptions& o, txn::StateMachine* sm) {
  RecoveryResult r;
  if (!FinishTruncation(o, &r)) return r;
  RemoveTmpSnapshots(o.snap_dir, &r);
  const std::vector<FileEntry> snaps = ListSnapshots(o.snap_dir);
  const std::vector<FileEntry> segs = ListSegments(o.log_dir);

  const FileEntry* chosen = nullptr;
  for (auto it = snaps.rbegin(); it != snaps.rend() && chosen == nullptr; ++it) {
    std::string error;
    if (VerifySnapshotFile(it->path, &error)) {
      chosen = &*it;
    } else {
      Warn(&r, "skipping invalid snapshot: " + error);
    }
  }
  if (chosen != nullptr) {
    Progress(o, "loading snapshot " + chosen->path);
    if (!LoadSnapshot(o, chosen->path, false, sm, &r)) return r;
  } else if (!snaps.empty() && (segs.empty() || segs.front().zxid > 1)) {
    const std::string msg =
        "no valid snapshot (newest: " + snaps.back().path + ") and the logs do not start at zxid 1: history is missing";
    if (!o.repair) {
      r.error = msg;
      return r;
    }
    AV_LOG(kError, "recovery REPAIR: {}; loading what parses of the newest snapshot", msg);
    Warn(&r, "repair: " + msg);
    if (!LoadSnapshot(o, snaps.back().path, true, sm, &r)) return r;
  }

  // The last segment that can hold last_zxid + 1, and everything after it.
  size_t first = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].zxid <= r.last_zxid + 1) first = i;
  }
  // Replay runs the state machine's one Apply, in fuzzy mode: the snapshot
  // may already reflect part of what follows its zxid.
  sm->SetFuzzy(true);
  bool stop = false;
  for (size_t i = first; i < segs.size() && !stop; ++i) {
    const std::string& path = segs[i].path;
    const bool last = i + 1 == segs.size();
    SegmentReader reader;
    std::string error;
    if (!reader.Open(path, &error)) {
      if (!Corrupt(o, segs, i, 0, error, &r)) return r;
      break;
    }
    SegmentRecord rec;
    int64_t prev = 0;  // zxid of the previous record in this segment
    while (reader.Next(&rec)) {
      const txn::Txn& t = rec.txn;
      // One writer appends each segment in zxid order (Wal::Append checks
      // it): a record that does not follow its predecessor is corruption,
      // not something to skip, even before the snapshot's zxid.
      if (prev != 0 && !Follows(prev, t.zxid)) {
        const std::string msg = path + ": zxid out of order, " + std::to_string(t.zxid) + " after " +
                                std::to_string(prev) + " at offset " + std::to_string(rec.offset);
        if (!Corrupt(o, segs, i, rec.offset, msg, &r)) return r;
        stop = true;
        break;
      }
      prev = t.zxid;
      if (t.zxid <= r.last_zxid) continue;
      if (!Follows(r.last_zxid, t.zxid)) {
        const std::string msg = path + ": zxid gap, expected " + std::to_string(r.last_zxid + 1) + " but found " +
                                std::to_string(t.zxid) + " at offset " + std::to_string(rec.offset);
        if (!Corrupt(o, segs, i, rec.offset, msg, &r)) return r;
        stop = true;
        break;
      }
      auto swept = r.swept.find(t.zxid);
      if (swept != r.swept.end() && t.type == proto::OpCode::kCloseSession) {
        // A close during the snapshot's walk: delete what it swept again.
        txn::Txn close = t;
        close.op.body = txn::CloseSessionTxn{swept->second};
        sm->Apply(close);
      } else {
        sm->Apply(t);
      }
      r.last_zxid = t.zxid;
      if (++r.txns_replayed % kProgressEvery == 0) {
        Progress(o, "replayed " + std::to_string(r.txns_replayed) + " txns, at zxid " + std::to_string(t.zxid));
      }
    }
    if (stop) break;
    if (reader.end() == SegmentEnd::kClean) continue;
    const std::string where = path + ": " + reader.bad_reason() + " at offset " + std::to_string(reader.bad_offset());
    if (reader.end() == SegmentEnd::kTorn && last) {
      std::string werr;
      const int64_t cut = reader.good_end();
      if (!TruncateFile(path, cut, &werr)) {
        r.error = werr;
        return r;
      }
      Warn(&r, "torn tail truncated: " + path + " at offset " + std::to_string(cut) + " (" +
                   std::to_string(reader.file_size() - cut) + " bytes removed; " + reader.bad_reason() + ")");
      continue;
    }
    if (!Corrupt(o, segs, i, reader.good_end(), "corrupt WAL record: " + where, &r)) return r;
    break;
  }
  sm->SetFuzzy(false);
  sm->set_last_zxid(r.last_zxid);
  r.sessions.clear();
  for (const auto& [id, timeout] : sm->sessions()) r.sessions.push_back({id, timeout});
  // The state machine's table is a hash map: recovered sessions sorted by id.
  std::sort(r.sessions.begin(), r.sessions.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (!CheckEphemeralOwners(o, sm->tree(), &r)) return r;
  // A repair adds the orphans' owners (timeout 0) to r.sessions.
  for (const SessionRecord& s : r.sessions) sm->PutSession(s.id, s.timeout_ms);
  r.ok = true;
  Progress(o, "recovered to zxid " + std::to_string(r.last_zxid) + " (" + std::to_string(r.nodes_loaded) +
                  " nodes loaded, " + std::to_string(r.txns_replayed) + " txns replayed)");
  return r;
}

}  // namespace aviary::storage
