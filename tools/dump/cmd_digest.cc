// digest --data-dir D [--log-dir L] [--upto ZXID]: recovers the files into a
// tree in memory and prints the last zxid and storage::TreeDigest.
//
// Recovery may truncate a torn tail in place, so it runs on a private copy
// in a temporary directory; the given directories are only read. With
// --upto the copy holds only log records <= ZXID, and only a snapshot that
// cannot reflect anything later: snapshots are fuzzy (a node may be copied
// after txns past the snapshot's name were applied), so one is used only if
// no node in it carries a czxid/mzxid/pzxid above ZXID; otherwise an older
// one (or none, replaying from zxid 1) is used.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "files.h"
#include "storage/layout.h"
#include "storage/recovery.h"
#include "storage/snapshot_reader.h"
#include "storage/wal_reader.h"
#include "txn_format.h"

namespace aviary::dump {
namespace {

// Highest zxid stamped on any node of a valid snapshot; -1 if unreadable.
int64_t MaxStampedZxid(const std::string& path) {
  storage::SnapshotReader r;
  std::string err;
  if (!r.Open(path, &err)) return -1;
  int64_t mx = r.header().zxid;
  storage::SnapshotNode n;
  while (r.Next(&n)) mx = std::max({mx, n.node.stat.czxid(), n.node.stat.mzxid(), n.node.stat.pzxid()});
  return r.done() && r.error().empty() ? mx : -1;
}

// Cuts a copied segment before its first record with zxid > upto.
bool CutAfter(const std::string& path, int64_t upto, std::string* error) {
  int64_t cut = -1;
  {
    storage::SegmentReader r;
    if (!r.Open(path, error)) return false;
    storage::SegmentRecord rec;
    while (r.Next(&rec)) {
      if (rec.txn.zxid > upto) {
        cut = rec.offset;
        break;
      }
    }
  }
  return cut < 0 || TruncateFile(path, cut, error);
}

int Fail(const std::string& tmp, const std::string& msg) {
  std::fprintf(stderr, "aviary-dump: %s\n", msg.c_str());
  if (!tmp.empty()) RemoveTree(tmp);
  return 1;
}

}  // namespace

int CmdDigest(const Args& a) {
  std::string data_dir = a.Get("--data-dir");
  if (data_dir.empty() || !a.positional.empty()) {
    std::fprintf(stderr, "usage: aviary-dump digest --data-dir D [--log-dir L] [--upto ZXID]\n");
    return 2;
  }
  data_dir = ResolveDir(data_dir);
  std::string log_dir = a.Get("--log-dir").empty() ? data_dir : ResolveDir(a.Get("--log-dir"));
  int64_t upto = -1;
  if (!a.Get("--upto").empty() && !ParseZxid(a.Get("--upto"), &upto)) {
    std::fprintf(stderr, "aviary-dump: bad --upto %s\n", a.Get("--upto").c_str());
    return 2;
  }
  std::string tmp, err;
  if (!MakeTempDir("aviary-digest-", &tmp, &err)) return Fail("", err);
  std::string vdir = storage::VersionDir(tmp);
  if (!storage::EnsureDir(vdir, &err)) return Fail(tmp, err);

  // Snapshots: all of them (recovery picks the newest valid), or with
  // --upto the newest one that cannot reach past it.
  int64_t snap_zxid = -1;
  auto snaps = storage::ListSnapshots(data_dir);
  for (auto it = snaps.rbegin(); it != snaps.rend(); ++it) {
    if (upto >= 0 && (it->zxid > upto || MaxStampedZxid(it->path) > upto)) continue;
    if (!CopyFile(it->path, vdir + "/" + BaseName(it->path), -1, nullptr, &err)) return Fail(tmp, err);
    if (snap_zxid < 0) snap_zxid = it->zxid;
    if (upto >= 0) break;
  }
  // Segments: all (without --upto recovery chooses), or from the one that
  // holds snap_zxid + 1 on.
  auto segs = storage::ListSegments(log_dir);
  size_t first = 0;
  if (upto >= 0 && snap_zxid >= 0) {
    for (size_t i = 0; i < segs.size(); ++i) {
      if (segs[i].zxid <= snap_zxid + 1) first = i;
    }
  }
  for (size_t i = first; i < segs.size(); ++i) {
    if (upto >= 0 && segs[i].zxid > upto) break;
    std::string to = vdir + "/" + BaseName(segs[i].path);
    if (!CopyFile(segs[i].path, to, -1, nullptr, &err)) return Fail(tmp, err);
    if (upto >= 0 && !CutAfter(to, upto, &err)) return Fail(tmp, err);
  }

  tree::DataTree tree;
  storage::RecoveryOptions ro;
  ro.snap_dir = tmp;
  ro.log_dir = tmp;
  storage::RecoveryResult r = storage::Recover(ro, &tree);
  for (const auto& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!r.ok) return Fail(tmp, r.error);
  RemoveTree(tmp);
  std::printf("last_zxid %s\n", Hex(r.last_zxid).c_str());
  std::printf("digest %s\n", fmt::format("{:#018x}", storage::TreeDigest(tree)).c_str());
  std::printf("nodes %zu\n", tree.NodeCount());
  std::printf("sessions %zu\n", r.sessions.size());
  std::printf("snapshot %s\n", r.snapshot_zxid < 0 ? "none" : Hex(r.snapshot_zxid).c_str());
  std::printf("txns_replayed %zu\n", r.txns_replayed);
  if (upto >= 0 && r.last_zxid < upto) {
    std::fprintf(stderr, "aviary-dump: the log ends at %s, before --upto %s\n", Hex(r.last_zxid).c_str(),
                 Hex(upto).c_str());
    return 1;
  }
  return 0;
}

}  // namespace aviary::dump
