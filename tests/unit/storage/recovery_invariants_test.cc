// Invariants checked by recovery (issue 6, items 9 and 19): no ephemeral
// outlives its session (an error naming the paths, or with --repair the
// owner comes back as a session that expires), and the records of a segment
// follow each other in zxid order.
#include <gtest/gtest.h>

#include "storage/ephemeral_owners.h"
#include "storage/recovery.h"
#include "storage/wal.h"
#include "storage/wal_reader.h"
#include "storage_util.h"

namespace aviary::storage {
namespace {

using testing::OpenAcl;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteAll;

void TakeSnapshot(const std::string& dir, const tree::DataTree& t, int64_t zxid, std::vector<SessionRecord> sessions) {
  SnapshotBuilder b(zxid, std::move(sessions));
  SnapshotFileWriter w;
  std::string err;
  ASSERT_TRUE(w.Begin(dir, zxid, &err)) << err;
  std::string chunk;
  while (!b.Step(t, 1000, &chunk)) {
  }
  ASSERT_TRUE(w.Write(chunk, &err)) << err;
  ASSERT_TRUE(w.Write(b.Finish(), &err)) << err;
  ASSERT_TRUE(w.Commit(&err)) << err;
}

RecoveryResult RecoverDir(const std::string& dir, tree::DataTree* t, bool repair = false) {
  RecoveryOptions o;
  o.snap_dir = dir;
  o.log_dir = dir;
  o.repair = repair;
  return Recover(o, t);
}

txn::Txn CreateTxn(int64_t zxid, const std::string& path, int64_t ephemeral_owner = 0) {
  txn::Txn t;
  t.session_id = ephemeral_owner;
  t.zxid = zxid;
  t.time_ms = 1000 + zxid;
  t.type = proto::OpCode::kCreate;
  t.op = txn::Op{proto::OpCode::kCreate,
                 txn::CreateTxn{path, "d", OpenAcl(),
                                ephemeral_owner != 0 ? txn::NodeKind::kEphemeral : txn::NodeKind::kPersistent,
                                ephemeral_owner, 0, -1, false}};
  return t;
}

// A tree at zxid 4: /app, /app/lock owned by 0x77, /app/lease owned by
// 0x88, /app/mine owned by the live session 0x11.
void BuildTree(tree::DataTree* t) {
  txn::Apply(*t, CreateTxn(1, "/app"));
  txn::Apply(*t, CreateTxn(2, "/app/lock", 0x77));
  txn::Apply(*t, CreateTxn(3, "/app/lease", 0x88));
  txn::Apply(*t, CreateTxn(4, "/app/mine", 0x11));
}

TEST(EphemeralOwners, FindsOrphansByOwner) {
  tree::DataTree t;
  BuildTree(&t);
  OrphanEphemerals o = FindOrphanEphemerals(t, {{0x11, 5000}});
  EXPECT_EQ(o.owners, (std::vector<int64_t>{0x77, 0x88}));
  EXPECT_EQ(o.paths, (std::vector<std::string>{"/app/lock", "/app/lease"}));
  EXPECT_EQ(DescribeOrphans(t, o),
            "2 ephemeral node(s) owned by 2 session(s) that are not live: /app/lock (session 0x77), /app/lease "
            "(session 0x88)");
  EXPECT_EQ(DescribeOrphans(t, o, 1),
            "2 ephemeral node(s) owned by 2 session(s) that are not live: /app/lock (session 0x77), and 1 more");
  EXPECT_TRUE(FindOrphanEphemerals(t, {{0x88, 1}, {0x11, 1}, {0x77, 1}}).empty());
}

TEST(EphemeralOwners, RecoveryStopsOnOrphansNamingThem) {
  TempDir d;
  tree::DataTree live;
  BuildTree(&live);
  TakeSnapshot(d.path(), live, 4, {{0x11, 5000}});
  tree::DataTree t;
  RecoveryResult r = RecoverDir(d.path(), &t);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.orphan_owners, (std::vector<int64_t>{0x77, 0x88}));
  EXPECT_NE(r.error.find("/app/lock (session 0x77)"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("/app/lease (session 0x88)"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("--repair"), std::string::npos) << r.error;
}

TEST(EphemeralOwners, RepairRestoresOwnersWithUnknownTimeout) {
  TempDir d;
  tree::DataTree live;
  BuildTree(&live);
  TakeSnapshot(d.path(), live, 4, {{0x11, 5000}});
  tree::DataTree t;
  RecoveryResult r = RecoverDir(d.path(), &t, /*repair=*/true);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.sessions, (std::vector<SessionRecord>{{0x11, 5000}, {0x77, 0}, {0x88, 0}}));
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("repair: 2 ephemeral node(s)"), std::string::npos) << r.warnings[0];
  EXPECT_NE(t.Find("/app/lock"), nullptr);  // deleted later, by a logged closeSession
}

TEST(EphemeralOwners, OwnerClosedInTheLogIsNotAnOrphan) {
  // The snapshot has the session; the log closes it: replay deletes its
  // ephemerals, so nothing is left over.
  TempDir d;
  tree::DataTree live;
  BuildTree(&live);
  TakeSnapshot(d.path(), live, 4, {{0x11, 5000}, {0x77, 5000}, {0x88, 5000}});
  Wal wal(WalOptions{d.path(), false, 4096});
  std::string err;
  ASSERT_TRUE(wal.Open(5, &err)) << err;
  for (int64_t owner : {0x77, 0x88}) {
    txn::Txn c;
    c.session_id = owner;
    c.zxid = owner == 0x77 ? 5 : 6;
    c.type = proto::OpCode::kCloseSession;
    c.op = txn::Op{proto::OpCode::kCloseSession, txn::CloseSessionTxn{}};
    ASSERT_TRUE(wal.Append(c, &err)) << err;
  }
  ASSERT_TRUE(wal.Sync(&err)) << err;
  tree::DataTree t;
  RecoveryResult r = RecoverDir(d.path(), &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.sessions, (std::vector<SessionRecord>{{0x11, 5000}}));
  EXPECT_EQ(t.Find("/app/lock"), nullptr);
  EXPECT_NE(t.Find("/app/mine"), nullptr);
}

TEST(Recovery, RecordOutOfZxidOrderInASegmentIsCorruption) {
  // log.1 holds 1, 2, 3 and then a copy of a record for zxid 2 (as a bad
  // write-back or a bad copy could leave it): reported with file and offset,
  // not skipped.
  TempDir d;
  TempDir other;
  std::string err;
  {
    Wal wal(WalOptions{d.path(), true, 4096});
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    for (int64_t z = 1; z <= 3; ++z) ASSERT_TRUE(wal.Append(CreateTxn(z, "/n" + std::to_string(z)), &err));
    ASSERT_TRUE(wal.Sync(&err)) << err;
    Wal stray(WalOptions{other.path(), true, 4096});
    ASSERT_TRUE(stray.Open(2, &err)) << err;
    ASSERT_TRUE(stray.Append(CreateTxn(2, "/stray"), &err));
    ASSERT_TRUE(stray.Sync(&err)) << err;
  }
  auto records = [](const std::string& path) {
    SegmentReader r;
    std::string e;
    EXPECT_TRUE(r.Open(path, &e)) << e;
    std::vector<SegmentRecord> out;
    SegmentRecord rec;
    while (r.Next(&rec)) out.push_back(rec);
    return out;
  };
  const std::string path = VersionDir(d.path()) + "/" + SegmentName(1);
  const std::string stray_path = VersionDir(other.path()) + "/" + SegmentName(2);
  const std::vector<SegmentRecord> mine = records(path);
  const std::vector<SegmentRecord> theirs = records(stray_path);
  ASSERT_EQ(mine.size(), 3u);
  ASSERT_EQ(theirs.size(), 1u);
  std::string bytes = ReadAll(path);
  const std::string stray_bytes = ReadAll(stray_path);
  const size_t end = static_cast<size_t>(mine.back().offset) + kRecordHeaderBytes + mine.back().length;
  const std::string rec =
      stray_bytes.substr(static_cast<size_t>(theirs[0].offset), kRecordHeaderBytes + theirs[0].length);
  bytes.replace(end, rec.size(), rec);
  WriteAll(path, bytes);

  tree::DataTree t;
  RecoveryResult r = RecoverDir(d.path(), &t);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find(path + ": zxid out of order, 2 after 3 at offset " + std::to_string(end)), std::string::npos)
      << r.error;
  // With --repair the log is cut there and the first three are kept.
  tree::DataTree t2;
  r = RecoverDir(d.path(), &t2, /*repair=*/true);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 3);
  EXPECT_EQ(t2.Find("/stray"), nullptr);
}

}  // namespace
}  // namespace aviary::storage
