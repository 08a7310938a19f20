// ZAB's TRUNC on the log (storage/wal_truncate.h): after truncating after Z,
// recovery ends at exactly Z with Z's tree, whatever the segments and
// snapshots held, and a crash at any step of the truncation never lets a
// txn > Z replay.
#include "storage/wal_truncate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "storage/digest.h"
#include "storage/recovery.h"
#include "storage/wal.h"
#include "storage/wal_reader.h"
#include "storage_util.h"

namespace aviary::storage {
namespace {

using testing::TempDir;
using testing::Workload;

constexpr int64_t kEpoch2 = int64_t{2} << 32;

void TakeSnapshot(const std::string& dir, const Workload& w) {
  SnapshotBuilder b(w.zxid, w.SessionList());
  SnapshotFileWriter f;
  std::string err;
  ASSERT_TRUE(f.Begin(dir, w.zxid, &err)) << err;
  std::string chunk;
  while (!b.Step(w.tree, 1000, &chunk)) {
  }
  ASSERT_TRUE(f.Write(chunk, &err)) << err;
  ASSERT_TRUE(f.Write(b.Finish(), &err)) << err;
  ASSERT_TRUE(f.Commit(&err)) << err;
}

RecoveryResult RecoverDir(const std::string& dir, tree::DataTree* t, const std::string& snap_dir = "") {
  RecoveryOptions o;
  o.snap_dir = snap_dir.empty() ? dir : snap_dir;
  o.log_dir = dir;
  return Recover(o, t);
}

// The history a follower may hold when the new leader sends TRUNC: epoch 1
// in three segments with snapshots at about 8, 26 and 30, then an epoch-2
// segment of its own (it led epoch 2 briefly; nothing of it committed).
// Digests of the tree at every op boundary of epoch 1 (an op may log more
// than one txn, so the truncation points are taken from these).
struct History {
  TempDir dir;    // dataLogDir (and dataDir unless split)
  TempDir snaps;  // dataDir when split
  Workload w{7};
  std::map<int64_t, uint64_t> digests;
  int64_t epoch1_last = 0;
  int64_t epoch2_txns = 0;
  int64_t last = 0;

  void RunUntil(int64_t zxid) {
    while (w.zxid < zxid) {
      w.RandomOp();
      if (w.zxid < kEpoch2) digests[w.zxid] = TreeDigest(w.tree);
    }
  }
  // The first op boundary at or after zxid.
  int64_t Boundary(int64_t zxid) const { return digests.lower_bound(zxid)->first; }

  std::string snap_dir;

  explicit History(bool split = false) : snap_dir(split ? snaps.path() : dir.path()) {
    Wal wal(WalOptions{dir.path(), false, 4096});
    std::string err;
    EXPECT_TRUE(wal.Open(1, &err)) << err;
    w.wal = &wal;
    digests[0] = TreeDigest(w.tree);
    RunUntil(8);
    TakeSnapshot(snap_dir, w);
    RunUntil(12);
    EXPECT_TRUE(wal.Roll(w.zxid + 1, &err)) << err;
    RunUntil(24);
    EXPECT_TRUE(wal.Roll(w.zxid + 1, &err)) << err;
    RunUntil(26);
    TakeSnapshot(snap_dir, w);
    RunUntil(30);
    TakeSnapshot(snap_dir, w);
    epoch1_last = w.zxid;
    EXPECT_TRUE(wal.Roll(w.zxid + 1, &err)) << err;
    w.zxid = kEpoch2;
    RunUntil(kEpoch2 + 5);
    EXPECT_TRUE(wal.Sync(&err)) << err;
    last = w.zxid;
    epoch2_txns = last - kEpoch2;
    w.wal = nullptr;
  }
};

bool MarkerExists(const std::string& dir) {
  return access((VersionDir(dir) + "/" + kTruncateMarkerName).c_str(), F_OK) == 0;
}

TEST(WalTruncate, RecoveryEndsAtZAcrossSegmentsEpochsAndSnapshots) {
  for (int64_t want : {int64_t{5}, int64_t{12}, int64_t{13}, int64_t{20}, int64_t{30}}) {
    History h;
    if (::testing::Test::HasFailure()) return;
    const int64_t z = want == 30 ? h.epoch1_last : h.Boundary(want);
    TruncateReport report;
    std::string err;
    ASSERT_TRUE(TruncateLogAfter(h.dir.path(), h.dir.path(), z, &report, &err)) << err;
    EXPECT_EQ(report.txns_removed, h.epoch1_last - z + h.epoch2_txns) << "z=" << z;
    for (const FileEntry& s : ListSnapshots(h.dir.path())) EXPECT_LE(s.zxid, z);
    for (const FileEntry& s : ListSegments(h.dir.path())) EXPECT_LE(s.zxid, z);
    EXPECT_FALSE(MarkerExists(h.dir.path()));
    tree::DataTree t;
    RecoveryResult r = RecoverDir(h.dir.path(), &t);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.last_zxid, z);
    EXPECT_LE(r.snapshot_zxid, z);
    EXPECT_EQ(TreeDigest(t), h.digests[z]) << "z=" << z;
  }
}

TEST(WalTruncate, ZNotInTheLogChangesNothing) {
  History h;
  const std::vector<FileEntry> before = ListSegments(h.dir.path());
  TruncateReport report;
  std::string err;
  EXPECT_FALSE(TruncateLogAfter(h.dir.path(), h.dir.path(), h.epoch1_last + 1, &report, &err));
  EXPECT_NE(err.find("neither in the log"), std::string::npos) << err;
  EXPECT_FALSE(TruncateLogAfter(h.dir.path(), h.dir.path(), kEpoch2 + 9, &report, &err));
  EXPECT_FALSE(MarkerExists(h.dir.path()));
  const std::vector<FileEntry> after = ListSegments(h.dir.path());
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].size, before[i].size);
  tree::DataTree t;
  RecoveryResult r = RecoverDir(h.dir.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, h.last);
}

TEST(WalTruncate, AfterZeroEmptiesEverything) {
  History h;
  TruncateReport report;
  std::string err;
  ASSERT_TRUE(TruncateLogAfter(h.dir.path(), h.dir.path(), 0, &report, &err)) << err;
  EXPECT_TRUE(ListSegments(h.dir.path()).empty());
  EXPECT_TRUE(ListSnapshots(h.dir.path()).empty());
  tree::DataTree t;
  RecoveryResult r = RecoverDir(h.dir.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 0);
}

// The truncation stops after each of its steps in turn (as a crash there
// would leave the files); recovery then never replays a txn > Z: before the
// marker is durable nothing changed, afterwards recovery completes it. The
// history's last segment is of a later epoch, so a cut segment followed by
// a surviving later one would replay it (zxids may jump to a new epoch).
TEST(WalTruncate, CrashAtEveryStepNeverResurrects) {
  int64_t completed_at = -1;
  int64_t steps = 0;
  for (int64_t n = 0; n < 12 && completed_at < 0; ++n) {
    History h;
    if (::testing::Test::HasFailure()) return;
    const int64_t z = h.Boundary(13);
    if (n == 0) {
      // marker, each snapshot and segment after Z, the cut (unless a segment
      // starts at Z + 1), the marker's removal
      steps = 2;
      for (const FileEntry& f : ListSnapshots(h.dir.path())) steps += f.zxid > z;
      bool cut = true;
      for (const FileEntry& f : ListSegments(h.dir.path())) {
        steps += f.zxid > z;
        cut &= f.zxid != z + 1;
      }
      steps += cut;
    }
    TruncateReport report;
    std::string err;
    setenv("AVIARY_FAILPOINT", ("wal_truncate_stop_after:" + std::to_string(n)).c_str(), 1);
    const bool done = TruncateLogAfter(h.dir.path(), h.dir.path(), z, &report, &err);
    unsetenv("AVIARY_FAILPOINT");
    if (done) completed_at = n;
    if (!done) {
      EXPECT_NE(err.find("AVIARY_FAILPOINT"), std::string::npos) << err;
    }
    EXPECT_EQ(MarkerExists(h.dir.path()), !done && n > 0) << "n=" << n;
    tree::DataTree t;
    RecoveryResult r = RecoverDir(h.dir.path(), &t);
    ASSERT_TRUE(r.ok) << "n=" << n << ": " << r.error;
    if (n == 0) {
      EXPECT_EQ(r.last_zxid, h.last);  // stopped before the marker: untouched
      continue;
    }
    EXPECT_EQ(r.last_zxid, z) << "n=" << n;
    EXPECT_EQ(TreeDigest(t), h.digests[z]) << "n=" << n;
    EXPECT_FALSE(MarkerExists(h.dir.path()));
    for (const FileEntry& s : ListSnapshots(h.dir.path())) EXPECT_LE(s.zxid, z);
    bool warned = false;
    for (const std::string& w : r.warnings) warned |= w.find("interrupted log truncation") != std::string::npos;
    EXPECT_EQ(warned, !done) << "n=" << n;
  }
  EXPECT_EQ(completed_at, steps);
  EXPECT_GE(steps, 6);
}

// dataDir and dataLogDir apart: snapshots > Z go from dataDir, the marker
// and the segments live in dataLogDir.
TEST(WalTruncate, SeparateDataLogDir) {
  History h(true);
  if (::testing::Test::HasFailure()) return;
  const int64_t z = h.Boundary(20);
  ASSERT_FALSE(ListSnapshots(h.snap_dir).empty());
  EXPECT_TRUE(ListSnapshots(h.dir.path()).empty());
  TruncateReport report;
  std::string err;
  setenv("AVIARY_FAILPOINT", "wal_truncate_stop_after:2", 1);
  EXPECT_FALSE(TruncateLogAfter(h.snap_dir, h.dir.path(), z, &report, &err));
  unsetenv("AVIARY_FAILPOINT");
  EXPECT_TRUE(MarkerExists(h.dir.path()));
  tree::DataTree t;
  RecoveryResult r = RecoverDir(h.dir.path(), &t, h.snap_dir);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, z);
  EXPECT_EQ(TreeDigest(t), h.digests[z]);
  for (const FileEntry& s : ListSnapshots(h.snap_dir)) EXPECT_LE(s.zxid, z);
  EXPECT_FALSE(MarkerExists(h.dir.path()));
}

// A marker that is not a zxid stops the start; a marker's .tmp (never made
// durable, so nothing was changed after it) is removed and ignored.
TEST(WalTruncate, BadMarkerStopsTheStartAndATmpOneIsIgnored) {
  History h;
  const std::string marker = VersionDir(h.dir.path()) + "/" + kTruncateMarkerName;
  testing::WriteAll(marker + ".tmp", "13\n");
  tree::DataTree t1;
  RecoveryResult r = RecoverDir(h.dir.path(), &t1);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, h.last);
  EXPECT_NE(access((marker + ".tmp").c_str(), F_OK), 0);
  testing::WriteAll(marker, "thirteen\n");
  tree::DataTree t2;
  r = RecoverDir(h.dir.path(), &t2);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("not a truncation marker"), std::string::npos) << r.error;
}

void RunUntil(Workload* w, int64_t zxid, std::vector<int64_t>* boundaries = nullptr) {
  while (w->zxid < zxid) {
    w->RandomOp();
    if (boundaries != nullptr) boundaries->push_back(w->zxid);
  }
}

// The follower's open log: truncated in place, then appended to again from
// Z + 1 (the leader's txns), possibly in a new epoch.
TEST(WalTruncate, OpenWalContinuesAfterZ) {
  TempDir d;
  Workload w{3};
  Wal wal(WalOptions{d.path(), false, 4096});
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  w.wal = &wal;
  std::vector<int64_t> boundaries;
  RunUntil(&w, 10, &boundaries);
  ASSERT_TRUE(wal.Sync(&err)) << err;
  RunUntil(&w, 16);  // some not yet synced
  const int64_t z = *std::lower_bound(boundaries.begin(), boundaries.end(), 7);
  ASSERT_TRUE(wal.TruncateAfter(z, d.path(), &err)) << err;
  EXPECT_EQ(wal.last_zxid(), z);
  EXPECT_EQ(wal.synced_zxid(), z);
  EXPECT_FALSE(wal.poisoned());
  // The leader's history: the same up to Z (same seed), other txns after.
  Workload leader{3};
  RunUntil(&leader, z);
  ASSERT_EQ(leader.zxid, z);
  leader.rng.seed(99);
  leader.wal = &wal;
  RunUntil(&leader, z + 2);
  leader.zxid = kEpoch2;
  RunUntil(&leader, kEpoch2 + 3);
  ASSERT_TRUE(wal.Sync(&err)) << err;
  tree::DataTree t;
  RecoveryResult r = RecoverDir(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, kEpoch2 + 3);
  EXPECT_EQ(TreeDigest(t), TreeDigest(leader.tree));
  // Z not in the log: refused, and the Wal stays usable.
  EXPECT_FALSE(wal.TruncateAfter(kEpoch2 + 50, d.path(), &err));
  EXPECT_FALSE(wal.poisoned());
  leader.RandomOp();
  EXPECT_TRUE(wal.Sync(&err)) << err;
}

}  // namespace
}  // namespace aviary::storage
