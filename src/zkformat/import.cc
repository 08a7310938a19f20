#include "zkformat/import.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "storage/epoch_file.h"
#include "storage/layout.h"
#include "storage/replay.h"
#include "storage/snapshot.h"
#include "storage/wal.h"
#include "zkformat/files.h"
#include "zkformat/txn_codec.h"

namespace aviary::zkformat {

namespace {

struct ZkFile {
  int64_t zxid = 0;
  std::string path;
};

// "<prefix>.<hex>" files of a version-2 directory, ascending by zxid; other
// names starting with the prefix (compressed snapshots, tmp files) are
// reported in *skipped.
std::vector<ZkFile> ListZkFiles(const std::string& vdir, const std::string& prefix, std::vector<std::string>* skipped) {
  std::vector<ZkFile> out;
  DIR* d = ::opendir(vdir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix + ".", 0) != 0) continue;
    std::string hex = name.substr(prefix.size() + 1);
    bool ok = !hex.empty() && hex.size() <= 16 && hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    if (ok) {
      out.push_back(ZkFile{static_cast<int64_t>(std::stoull(hex, nullptr, 16)), vdir + "/" + name});
    } else {
      skipped->push_back(vdir + "/" + name);
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const ZkFile& a, const ZkFile& b) { return a.zxid < b.zxid; });
  return out;
}

// Newest snapshot that loads; -1 when there is none.
bool LoadNewestSnapshot(const std::string& vdir, tree::DataTree* tree, ZkLoaded* out, std::string* error) {
  std::vector<std::string> skipped;
  std::vector<ZkFile> snaps = ListZkFiles(vdir, "snapshot", &skipped);
  for (const std::string& s : skipped) out->warnings.push_back("not read (compressed or not a snapshot): " + s);
  for (auto it = snaps.rbegin(); it != snaps.rend(); ++it) {
    tree::DataTree scratch;
    ZkSnapshot info;
    std::string why;
    if (!ReadZkSnapshotFile(it->path, &scratch, &info, &why)) {
      out->warnings.push_back("skipped invalid snapshot: " + why);
      continue;
    }
    // DataTree cannot be moved: load again into the caller's tree (cheap
    // next to the value of keeping tree construction in one place).
    if (!ReadZkSnapshotFile(it->path, tree, &info, error)) return false;
    out->snapshot_zxid = it->zxid;
    out->snapshot_path = it->path;
    for (const storage::SessionRecord& s : info.sessions) out->sessions[s.id] = s.timeout_ms;
    return true;
  }
  if (!snaps.empty()) {
    *error = "no valid ZooKeeper snapshot in " + vdir;
    return false;
  }
  return true;
}

// ZooKeeper's FileTxnLog.getLogFiles: the newest log starting at or before
// the snapshot's zxid, and every later one.
std::vector<ZkFile> LogsFor(const std::vector<ZkFile>& logs, int64_t snap_zxid) {
  int64_t start = 0;
  for (const ZkFile& f : logs) {
    if (f.zxid <= snap_zxid && f.zxid > start) start = f.zxid;
  }
  std::vector<ZkFile> out;
  for (const ZkFile& f : logs) {
    if (f.zxid >= start) out.push_back(f);
  }
  return out;
}

bool Follows(int64_t prev, int64_t zxid) { return zxid == prev + 1 || (zxid >> 32) > (prev >> 32); }

std::string Hex(int64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

void TrackSessions(const txn::Txn& t, std::map<int64_t, int32_t>* sessions) {
  if (t.type == proto::OpCode::kCreateSession) {
    if (auto* c = std::get_if<txn::CreateSessionTxn>(&t.op.body)) (*sessions)[t.session_id] = c->timeout_ms;
  } else if (t.type == proto::OpCode::kCloseSession) {
    sessions->erase(t.session_id);
  }
}

bool ReplayLogs(const std::string& vdir, tree::DataTree* tree, ZkLoaded* out, std::string* error) {
  std::vector<std::string> skipped;
  std::vector<ZkFile> logs = LogsFor(ListZkFiles(vdir, "log", &skipped), out->snapshot_zxid);
  int64_t prev = out->snapshot_zxid;
  for (const ZkFile& f : logs) {
    ZkLog log;
    if (!ReadZkLogFile(f.path, &log, error)) return false;
    if (!log.torn_tail.empty()) out->warnings.push_back("torn tail ignored: " + log.torn_tail);
    for (const ZkLogRecord& r : log.records) {
      ZkTxn z;
      std::string why;
      if (!DecodeZkTxn(r.bytes, &z, &why)) {
        *error = f.path + " at offset " + std::to_string(r.offset) + ": " + why;
        return false;
      }
      const int64_t zxid = z.txn.zxid;
      if (zxid <= prev && prev >= 0) continue;  // covered by the snapshot (or a stale record)
      if (prev < 0 ? (zxid & 0xffffffffLL) != 1 : !Follows(prev, zxid)) {
        *error = f.path + " at offset " + std::to_string(r.offset) + ": zxid " + Hex(zxid) + " after " +
                 (prev < 0 ? std::string("no snapshot") : Hex(prev)) + ": txns are missing";
        return false;
      }
      storage::ReplayTxn(tree, z.txn);
      TrackSessions(z.txn, &out->sessions);
      // Kept with the txn, as ZooKeeper's log keeps it: a DIFF from the
      // imported log carries it (an ensemble leader's; txn_codec version 2).
      if (z.digest && z.digest->version == kDigestVersion) z.txn.zk_digest = z.digest->tree_digest;
      out->txns.push_back(std::move(z.txn));
      prev = zxid;
    }
  }
  out->last_zxid = std::max<int64_t>(prev, 0);
  return true;
}

void KillDeadSessions(tree::DataTree* tree, ZkLoaded* out) {
  for (int64_t owner : tree->SessionsWithEphemerals()) {
    if (out->sessions.count(owner)) continue;
    for (const std::string& path : tree->EphemeralsOf(owner)) {
      if (tree->DeleteNode(path, out->last_zxid) == proto::Err::kOk) ++out->dead_ephemerals;
    }
  }
  if (out->dead_ephemerals > 0) {
    out->warnings.push_back(
        std::to_string(out->dead_ephemerals) +
        " ephemeral node(s) of sessions that are not live were deleted (as ZooKeeper does at start)");
  }
}

bool HasAviaryFiles(const std::string& dir) {
  return !storage::ListSnapshots(dir).empty() || !storage::ListSegments(dir).empty();
}

bool WriteAviarySnapshot(const tree::DataTree& tree, int64_t zxid, const std::vector<storage::SessionRecord>& sessions,
                         const std::string& dir, std::string* path, std::string* error) {
  storage::SnapshotBuilder builder(zxid, sessions);
  storage::SnapshotFileWriter writer;
  if (!writer.Begin(dir, zxid, error)) return false;
  bool done = false;
  std::string chunk;
  while (!done) {
    chunk.clear();
    done = builder.Step(tree, 50000, &chunk);
    if (!writer.Write(chunk, error)) return false;
  }
  if (!writer.Write(builder.Finish(), error) || !writer.Commit(error)) return false;
  *path = writer.final_path();
  return true;
}

bool WriteAviaryLog(const std::vector<txn::Txn>& txns, const std::string& dir, std::string* error) {
  if (txns.empty()) return true;
  storage::WalOptions o;
  o.dir = dir;
  o.prealloc_bytes = 1 << 20;
  storage::Wal wal(o);
  if (!wal.Open(txns.front().zxid, error)) return false;
  for (const txn::Txn& t : txns) {
    if (!wal.Append(t, error)) return false;  // order was checked when loading
  }
  return wal.Close(error);
}

// ZooKeeper's acceptedEpoch / currentEpoch (same files, same format in
// Aviary), copied when present; absent ones are created at the first start.
bool CopyEpochs(const std::string& zk_data_dir, const std::string& data_dir, std::string* error) {
  for (const char* name : {storage::kAcceptedEpochFile, storage::kCurrentEpochFile}) {
    int64_t epoch = 0;
    bool missing = false;
    if (!storage::ReadEpochFile(ZkVersionDir(zk_data_dir) + "/" + name, &epoch, &missing, error)) {
      if (missing) continue;
      return false;
    }
    if (!storage::WriteEpochFile(storage::EpochFilePath(data_dir, name), epoch, error)) return false;
  }
  return true;
}

}  // namespace

std::string ZkVersionDir(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  if (d.size() >= 9 && d.compare(d.size() - 9, 9, "version-2") == 0) return d;
  return d + "/version-2";
}

bool LoadZooKeeper(const std::string& snap_dir, const std::string& log_dir, tree::DataTree* tree, ZkLoaded* out,
                   std::string* error) {
  struct stat st;
  if (::stat(ZkVersionDir(snap_dir).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = ZkVersionDir(snap_dir) + ": not a directory";
    return false;
  }
  if (!LoadNewestSnapshot(ZkVersionDir(snap_dir), tree, out, error)) return false;
  if (!ReplayLogs(ZkVersionDir(log_dir), tree, out, error)) return false;
  if (out->snapshot_zxid < 0 && out->txns.empty()) {
    *error = "no ZooKeeper snapshot or txn log in " + ZkVersionDir(snap_dir);
    return false;
  }
  out->last_zxid = std::max(out->last_zxid, out->snapshot_zxid);
  KillDeadSessions(tree, out);
  return true;
}

bool ImportZooKeeper(const ImportOptions& opts, ImportResult* out, std::string* error) {
  const std::string zk_log = opts.zk_log_dir.empty() ? opts.zk_data_dir : opts.zk_log_dir;
  const std::string log_dir = opts.log_dir.empty() ? opts.data_dir : opts.log_dir;
  if (HasAviaryFiles(opts.data_dir) || HasAviaryFiles(log_dir)) {
    *error = "refusing to import into " + opts.data_dir + ": it already holds Aviary data files";
    return false;
  }
  tree::DataTree tree;
  if (!LoadZooKeeper(opts.zk_data_dir, zk_log, &tree, &out->loaded, error)) return false;
  std::vector<storage::SessionRecord> sessions;
  for (const auto& [id, timeout] : out->loaded.sessions) sessions.push_back({id, timeout});
  out->nodes = tree.NodeCount();
  if (!WriteAviaryLog(out->loaded.txns, log_dir, error)) return false;
  if (!WriteAviarySnapshot(tree, out->loaded.last_zxid, sessions, opts.data_dir, &out->snapshot_path, error)) {
    return false;
  }
  return CopyEpochs(opts.zk_data_dir, opts.data_dir, error);
}

}  // namespace aviary::zkformat
