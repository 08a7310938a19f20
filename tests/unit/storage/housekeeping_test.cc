// Log housekeeping as an ensemble member does it (quorum_peer_stream.cc):
// at each snapshot the log is rolled after the next fsync (Wal::RequestRoll
// + MaybeRoll), Purge keeps the newest snapshots and the segments they need;
// afterwards the log's start moves (OldestLoggedZxid, LogRangeReader's
// covers_from: a DIFF from a purged zxid is refused, so the leader sends a
// SNAP), recovery still reaches the live tree, and TRUNC works across the
// rolled segments.
#include <gtest/gtest.h>
#include <unistd.h>

#include "storage/digest.h"
#include "storage/layout.h"
#include "storage/log_range.h"
#include "storage/recovery.h"
#include "storage/segment_worker.h"
#include "storage/snapshot.h"
#include "storage/wal.h"
#include "storage_util.h"

namespace aviary::storage {
namespace {

using testing::TempDir;
using testing::Workload;

void WriteSnapshot(const std::string& dir, const Workload& w) {
  SnapshotBuilder b(w.zxid, w.SessionList());
  SnapshotFileWriter f;
  std::string err;
  ASSERT_TRUE(f.Begin(dir, w.zxid, &err)) << err;
  std::string chunk;
  while (!b.Step(w.tree, 7, &chunk)) {
  }
  chunk += b.Finish();
  ASSERT_TRUE(f.Write(chunk, &err) && f.Commit(&err)) << err;
}

RecoveryResult RecoverInto(const std::string& dir, tree::DataTree* t) {
  RecoveryOptions o;
  o.snap_dir = dir;
  o.log_dir = dir;
  return Recover(o, t);
}

// Batches of 10 txns, one fsync each (as the consensus thread's group
// commit); every 40 txns a snapshot of the applied state and a roll request.
// background: closed segments' tails cut by the Wal's worker
// (WalOptions::background_roll, delay 0).
WalOptions MemberWal(const std::string& dir, bool background) {
  WalOptions o{dir, false, 4096};
  o.background_roll = background;
  o.background_delay_ms = 0;
  return o;
}

struct Member {
  explicit Member(bool background = false) : wal(MemberWal(d.path(), background)) {}
  TempDir d;
  Wal wal;
  Workload w{17};
  std::vector<int64_t> snaps;

  void One() {
    const int64_t before = w.zxid;
    while (w.zxid == before) w.RandomOp();
  }
  void Run(int batches) {
    std::string err;
    for (int b = 0; b < batches; ++b) {
      const int64_t before = w.zxid;
      while (w.zxid < before + 10) w.RandomOp();
      ASSERT_TRUE(wal.Sync(&err)) << err;
      ASSERT_TRUE(wal.MaybeRoll(&err)) << err;
      if (b % 4 == 3) {
        WriteSnapshot(d.path(), w);
        snaps.push_back(w.zxid);
        wal.RequestRoll();
      }
    }
  }
};

TEST(Housekeeping, MaybeRollOnlyWhenAskedAndTheSegmentHoldsATxn) {
  Member m;
  std::string err;
  ASSERT_TRUE(m.wal.Open(1, &err)) << err;
  m.w.wal = &m.wal;
  ASSERT_TRUE(m.wal.MaybeRoll(&err)) << err;  // not asked
  m.wal.RequestRoll();
  ASSERT_TRUE(m.wal.MaybeRoll(&err)) << err;  // asked, but the segment is empty: stays asked
  EXPECT_EQ(ListSegments(m.d.path()).size(), 1u);
  m.One();
  ASSERT_TRUE(m.wal.MaybeRoll(&err)) << err;
  const std::vector<FileEntry> segs = ListSegments(m.d.path());
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[1].zxid, m.w.zxid + 1);  // named after the next txn
  EXPECT_EQ(m.wal.txns_in_segment(), 0);
  m.One();
  ASSERT_TRUE(m.wal.MaybeRoll(&err)) << err;  // the request was used up
  EXPECT_EQ(ListSegments(m.d.path()).size(), 2u);
}

void PurgeMovesTheLogStart(bool background) {
  Member m(background);
  std::string err;
  ASSERT_TRUE(m.wal.Open(1, &err)) << err;
  m.w.wal = &m.wal;
  m.Run(40);  // 400 txns, 10 snapshots, 10 rolls
  ASSERT_EQ(m.snaps.size(), 10u);
  const size_t segs_before = ListSegments(m.d.path()).size();
  EXPECT_GE(segs_before, 10u);
  int64_t oldest = -1;
  ASSERT_TRUE(OldestLoggedZxid(m.d.path(), &oldest, &err)) << err;
  EXPECT_EQ(oldest, 1);

  if (background) {  // every closed segment cut to its data by the worker
    for (int i = 0; i < 2000 && m.wal.segment_worker()->trims_done() < 9; ++i) usleep(1000);
    EXPECT_EQ(m.wal.segment_worker()->trims_done(), 9);  // the 10th roll request waits for a next MaybeRoll
    const std::vector<FileEntry> closed = ListSegments(m.d.path());
    for (size_t i = 0; i + 1 < closed.size(); ++i) EXPECT_NE(closed[i].size % 4096, 0) << closed[i].path;  // no step
  }
  Purge(m.d.path(), m.d.path(), 3);
  const std::vector<FileEntry> snaps = ListSnapshots(m.d.path());
  ASSERT_EQ(snaps.size(), 3u);
  const int64_t base = snaps.front().zxid;
  EXPECT_EQ(base, m.snaps[7]);
  const std::vector<FileEntry> segs = ListSegments(m.d.path());
  EXPECT_LE(segs.size(), 4u);
  ASSERT_TRUE(OldestLoggedZxid(m.d.path(), &oldest, &err)) << err;
  EXPECT_GT(oldest, m.snaps[6]);  // older txns are gone ...
  EXPECT_LE(oldest, base + 1);    // ... but every one after the oldest kept snapshot is there

  // A learner at an early zxid needs a SNAP; one at the oldest kept
  // snapshot (or later) can still get every txn after it by DIFF.
  LogRangeReader early;
  ASSERT_TRUE(early.Open(m.d.path(), m.snaps[2], m.w.zxid, &err)) << err;
  EXPECT_FALSE(early.covers_from());
  LogRangeReader diff;
  ASSERT_TRUE(diff.Open(m.d.path(), base, m.w.zxid, &err)) << err;
  EXPECT_TRUE(diff.covers_from());
  txn::Txn t;
  int64_t expect = base;
  while (diff.Next(&t)) EXPECT_EQ(t.zxid, ++expect);
  EXPECT_EQ(diff.error(), "");
  EXPECT_EQ(expect, m.w.zxid);

  tree::DataTree live;
  const RecoveryResult r = RecoverInto(m.d.path(), &live);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, m.w.zxid);
  EXPECT_EQ(TreeDigest(live), TreeDigest(m.w.tree));
}

TEST(Housekeeping, PurgeMovesTheLogStartAndRecoveryStillWorks) { PurgeMovesTheLogStart(false); }
TEST(Housekeeping, PurgeMovesTheLogStartWithBackgroundRoll) { PurgeMovesTheLogStart(true); }

// TRUNC on a log of rolled (and partly purged) segments: the segment
// holding Z is cut, later ones and later snapshots go, and the open Wal
// continues after Z in a new segment.
void TruncateAfterAcrossRolledSegments(bool background) {
  Member m(background);
  std::string err;
  ASSERT_TRUE(m.wal.Open(1, &err)) << err;
  m.w.wal = &m.wal;
  m.Run(24);
  Purge(m.d.path(), m.d.path(), 3);
  const std::vector<FileEntry> segs = ListSegments(m.d.path());
  ASSERT_GE(segs.size(), 3u);
  const int64_t z = segs[1].zxid + 3;  // inside a middle segment
  ASSERT_LT(z, m.w.zxid);
  ASSERT_TRUE(m.wal.TruncateAfter(z, m.d.path(), &err)) << err;
  EXPECT_EQ(m.wal.last_zxid(), z);
  for (const FileEntry& s : ListSnapshots(m.d.path())) EXPECT_LE(s.zxid, z);
  tree::DataTree t;
  RecoveryResult r = RecoverInto(m.d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, z);
  // The leader's txns follow in the reopened segment.
  txn::Txn next;
  next.zxid = z + 1;
  next.time_ms = 1;
  next.type = proto::OpCode::kCreate;
  next.op = txn::Op{proto::OpCode::kCreate, txn::CreateTxn{"/after-trunc", "x", testing::OpenAcl(),
                                                           txn::NodeKind::kPersistent, 0, 0, 1, false}};
  ASSERT_TRUE(m.wal.Append(next, &err) && m.wal.Sync(&err)) << err;
  EXPECT_EQ(ListSegments(m.d.path()).back().zxid, z + 1);
  tree::DataTree t2;
  r = RecoverInto(m.d.path(), &t2);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, z + 1);
  EXPECT_NE(t2.Find("/after-trunc"), nullptr);
}

TEST(Housekeeping, TruncateAfterAcrossRolledSegments) { TruncateAfterAcrossRolledSegments(false); }
TEST(Housekeeping, TruncateAfterAcrossRolledSegmentsWithBackgroundRoll) { TruncateAfterAcrossRolledSegments(true); }

}  // namespace
}  // namespace aviary::storage
