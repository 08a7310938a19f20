#include "storage/wal.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "storage/recovery.h"
#include "storage/wal_reader.h"
#include "storage_util.h"

namespace aviary::storage {
namespace {

using testing::ReadAll;
using testing::TempDir;
using testing::WriteAll;

txn::Txn SetTxn(int64_t zxid, const std::string& data = "v") {
  txn::Txn t;
  t.zxid = zxid;
  t.time_ms = 100 + zxid;
  t.type = proto::OpCode::kCreate;
  t.op = txn::Op{proto::OpCode::kCreate,
                 txn::CreateTxn{"/n" + std::to_string(zxid), data, testing::OpenAcl(), txn::NodeKind::kPersistent, 0, 0,
                                static_cast<int32_t>(zxid), false}};
  return t;
}

// Writes zxids [from, to] to a fresh segment log.<from>.
void WriteSegment(const std::string& dir, int64_t from, int64_t to, int64_t prealloc = 4096) {
  Wal wal(WalOptions{dir, true, prealloc});
  std::string err;
  ASSERT_TRUE(wal.Open(from, &err)) << err;
  for (int64_t z = from; z <= to; ++z) ASSERT_TRUE(wal.Append(SetTxn(z), &err)) << err;
  ASSERT_TRUE(wal.Sync(&err)) << err;
}

std::vector<SegmentRecord> ReadSegment(const std::string& path, SegmentEnd* end = nullptr) {
  SegmentReader r;
  std::string err;
  EXPECT_TRUE(r.Open(path, &err)) << err;
  std::vector<SegmentRecord> out;
  SegmentRecord rec;
  while (r.Next(&rec)) out.push_back(rec);
  if (end != nullptr) *end = r.end();
  return out;
}

RecoveryResult RecoverDir(const std::string& dir, bool repair = false, tree::DataTree* t = nullptr) {
  tree::DataTree local;
  RecoveryOptions o;
  o.snap_dir = dir;
  o.log_dir = dir;
  o.repair = repair;
  return Recover(o, t != nullptr ? t : &local);
}

TEST(Wal, WriteReadAndPreallocation) {
  TempDir d;
  WriteSegment(d.path(), 1, 50, 4096);
  const std::string path = VersionDir(d.path()) + "/" + SegmentName(1);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size % 4096, 0);
  EXPECT_GT(st.st_size, 4096);  // 50 records do not fit one step
  SegmentEnd end;
  std::vector<SegmentRecord> recs = ReadSegment(path, &end);
  EXPECT_EQ(end, SegmentEnd::kClean);
  ASSERT_EQ(recs.size(), 50u);
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].txn.zxid, static_cast<int64_t>(i + 1));
    EXPECT_EQ(std::get<txn::CreateTxn>(recs[i].txn.op.body).path, "/n" + std::to_string(i + 1));
  }
  // Past the last record: zeros up to the preallocated size.
  const std::string bytes = ReadAll(path);
  const size_t data_end = static_cast<size_t>(recs.back().offset) + kRecordHeaderBytes + recs.back().length;
  EXPECT_EQ(bytes.find_first_not_of('\0', data_end), std::string::npos);
}

TEST(Wal, RollNamesSegments) {
  TempDir d;
  Wal wal(WalOptions{d.path(), false, 1 << 16});
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  for (int64_t z = 1; z <= 3; ++z) ASSERT_TRUE(wal.Append(SetTxn(z), &err));
  EXPECT_EQ(wal.txns_in_segment(), 3);
  ASSERT_TRUE(wal.Roll(4, &err)) << err;
  EXPECT_EQ(wal.txns_in_segment(), 0);
  EXPECT_EQ(wal.segment_path(), VersionDir(d.path()) + "/log.0000000000000004");
  ASSERT_TRUE(wal.Append(SetTxn(4), &err));
  ASSERT_TRUE(wal.Sync(&err));
  std::vector<FileEntry> segs = ListSegments(d.path());
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].zxid, 1);
  EXPECT_EQ(segs[1].zxid, 4);
  EXPECT_EQ(ReadSegment(segs[0].path).size(), 3u);
  EXPECT_EQ(ReadSegment(segs[1].path).size(), 1u);
  // A segment holding records is never overwritten.
  Wal other(WalOptions{d.path(), false, 0});
  EXPECT_FALSE(other.Open(1, &err));
  EXPECT_NE(err.find("holds records"), std::string::npos) << err;
}

// A repeated, older or skipped zxid means the pipeline is broken: the
// writer stops the process rather than log what recovery would refuse.
TEST(WalDeathTest, OutOfOrderOrSkippedZxidAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir d;
  auto append = [&](std::vector<int64_t> zxids) {
    Wal wal(WalOptions{d.path() + "/w" + std::to_string(zxids.back()), false, 1 << 16});
    std::string err;
    if (!wal.Open(1, &err)) return;
    for (int64_t z : zxids) (void)wal.Append(SetTxn(z), &err);
  };
  EXPECT_DEATH(append({1, 2, 3, 3}), "WAL append out of order: zxid 0x3 after 0x3");
  EXPECT_DEATH(append({1, 2, 1}), "WAL append out of order: zxid 0x1 after 0x2");
  EXPECT_DEATH(append({1, 2, 4}), "WAL append out of order: zxid 0x4 after 0x2");
  EXPECT_DEATH(append({2}), "WAL append out of order: zxid 0x2 after 0x0");
  // A new epoch may start anywhere above the old one.
  TempDir e;
  Wal wal(WalOptions{e.path(), false, 1 << 16});
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  ASSERT_TRUE(wal.Append(SetTxn(1), &err));
  ASSERT_TRUE(wal.Append(SetTxn((int64_t{1} << 32) + 1), &err));
  ASSERT_TRUE(wal.Append(SetTxn((int64_t{1} << 32) + 2), &err));
}

TEST(Wal, FailpointPoisons) {
  TempDir d;
  setenv("AVIARY_FAILPOINT", "wal_sync_eio_after:2", 1);
  Wal wal(WalOptions{d.path(), true, 4096});
  unsetenv("AVIARY_FAILPOINT");
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  ASSERT_TRUE(wal.Append(SetTxn(1), &err));
  EXPECT_TRUE(wal.Sync(&err));
  EXPECT_TRUE(wal.Sync(&err));
  EXPECT_FALSE(wal.Sync(&err));
  EXPECT_NE(err.find("Input/output error"), std::string::npos) << err;
  EXPECT_TRUE(wal.poisoned());
  EXPECT_FALSE(wal.Append(SetTxn(2), &err));
  EXPECT_FALSE(wal.Sync(&err));

  setenv("AVIARY_FAILPOINT", "wal_sync_eio", 1);
  Wal always(WalOptions{d.path() + "/b", true, 4096});
  unsetenv("AVIARY_FAILPOINT");
  ASSERT_TRUE(always.Open(1, &err)) << err;
  EXPECT_FALSE(always.Sync(&err));
}

TEST(Recovery, TornTailTruncatedAtEveryByte) {
  TempDir src;
  WriteSegment(src.path(), 1, 5, 4096);
  const std::string name = SegmentName(1);
  const std::string full = ReadAll(VersionDir(src.path()) + "/" + name);
  const std::vector<SegmentRecord> recs = ReadSegment(VersionDir(src.path()) + "/" + name);
  const size_t start = static_cast<size_t>(recs.back().offset);
  const size_t end = start + kRecordHeaderBytes + recs.back().length;
  for (int zero_fill = 0; zero_fill < 2; ++zero_fill) {
    for (size_t cut = start; cut < end; ++cut) {
      TempDir d;
      std::filesystem::create_directories(VersionDir(d.path()));
      const std::string path = VersionDir(d.path()) + "/" + name;
      std::string bytes = full.substr(0, cut);
      if (zero_fill != 0) bytes.append(full.size() - cut, '\0');
      WriteAll(path, bytes);
      // Zero-filling may restore trailing zero bytes of the record itself.
      if (bytes.size() >= end && bytes.compare(start, end - start, full, start, end - start) == 0) continue;
      tree::DataTree t;
      const RecoveryResult r = RecoverDir(d.path(), false, &t);
      ASSERT_TRUE(r.ok) << cut << " " << r.error;
      EXPECT_EQ(r.last_zxid, 4) << cut;
      EXPECT_EQ(r.txns_replayed, 4u);
      EXPECT_NE(t.Find("/n4"), nullptr);
      EXPECT_EQ(t.Find("/n5"), nullptr);
      const bool torn = full.substr(start, cut - start).find_first_not_of('\0') != std::string::npos;
      if (!torn) {
        EXPECT_TRUE(r.warnings.empty());  // EOF or a zero length field: a clean end
      } else {
        ASSERT_EQ(r.warnings.size(), 1u) << cut;
        EXPECT_NE(r.warnings[0].find("torn tail truncated: " + path + " at offset " + std::to_string(start)),
                  std::string::npos)
            << r.warnings[0];
        struct stat st;
        ASSERT_EQ(stat(path.c_str(), &st), 0);
        EXPECT_EQ(static_cast<size_t>(st.st_size), start);
      }
      // Recovering again is clean and stable.
      const RecoveryResult again = RecoverDir(d.path());
      EXPECT_TRUE(again.ok);
      EXPECT_EQ(again.last_zxid, 4);
    }
  }
}

TEST(Recovery, MidLogCorruptionNamesFileAndOffset) {
  TempDir d;
  WriteSegment(d.path(), 1, 10);
  const std::string path = VersionDir(d.path()) + "/" + SegmentName(1);
  const std::vector<SegmentRecord> recs = ReadSegment(path);
  std::string bytes = ReadAll(path);
  const size_t bad = static_cast<size_t>(recs[4].offset);  // zxid 5
  bytes[bad + kRecordHeaderBytes + 3] ^= 0x40;
  WriteAll(path, bytes);

  RecoveryResult r = RecoverDir(d.path());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find(path), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("offset " + std::to_string(bad)), std::string::npos) << r.error;

  tree::DataTree t;
  r = RecoverDir(d.path(), true, &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 4);
  EXPECT_NE(t.Find("/n4"), nullptr);
  EXPECT_EQ(t.Find("/n6"), nullptr);
  EXPECT_FALSE(r.warnings.empty());
  EXPECT_TRUE(std::filesystem::exists(path + ".corrupt"));
  EXPECT_TRUE(RecoverDir(d.path()).ok);  // repaired state recovers cleanly
}

TEST(Recovery, BadRecordInEarlierSegmentIsAnError) {
  TempDir d;
  WriteSegment(d.path(), 1, 5);
  WriteSegment(d.path(), 6, 8);
  const std::string first = VersionDir(d.path()) + "/" + SegmentName(1);
  const std::vector<SegmentRecord> recs = ReadSegment(first);
  std::string bytes = ReadAll(first);
  bytes.resize(static_cast<size_t>(recs.back().offset) + 5);  // torn, but not the last segment
  WriteAll(first, bytes);
  RecoveryResult r = RecoverDir(d.path());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find(first), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("offset " + std::to_string(recs.back().offset)), std::string::npos) << r.error;
  r = RecoverDir(d.path(), true);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.last_zxid, 4);
  EXPECT_TRUE(std::filesystem::exists(VersionDir(d.path()) + "/" + SegmentName(6) + ".discarded"));
}

TEST(Recovery, ZxidGapBetweenSegmentsIsAnError) {
  TempDir d;
  WriteSegment(d.path(), 1, 5);
  WriteSegment(d.path(), 8, 9);
  RecoveryResult r = RecoverDir(d.path());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("zxid gap"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find(SegmentName(8)), std::string::npos) << r.error;
  // A jump to a new epoch is allowed.
  TempDir e;
  WriteSegment(e.path(), 1, 5);
  WriteSegment(e.path(), (int64_t{1} << 32) + 1, (int64_t{1} << 32) + 2);
  r = RecoverDir(e.path());
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, (int64_t{1} << 32) + 2);
}

TEST(Recovery, ZooKeeperFilesRejectedClearly) {
  TempDir d;
  std::filesystem::create_directories(VersionDir(d.path()));
  WriteAll(VersionDir(d.path()) + "/log.1", std::string("ZKLG\0\0\0\x02", 8) + std::string(100, '\x01'));
  RecoveryResult r = RecoverDir(d.path());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("ZooKeeper transaction log"), std::string::npos) << r.error;

  TempDir s;
  std::filesystem::create_directories(VersionDir(s.path()));
  const std::string snap = VersionDir(s.path()) + "/snapshot.5";
  WriteAll(snap, std::string("ZKSN\0\0\0\x02", 8) + std::string(100, '\x01'));
  std::string err;
  EXPECT_FALSE(VerifySnapshotFile(snap, &err));
  EXPECT_NE(err.find("ZooKeeper snapshot"), std::string::npos) << err;
  r = RecoverDir(s.path());
  EXPECT_FALSE(r.ok);
}

TEST(Recovery, EmptyDirectoryIsAFreshTree) {
  TempDir d;
  tree::DataTree t;
  const RecoveryResult r = RecoverDir(d.path(), false, &t);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.last_zxid, 0);
  EXPECT_EQ(r.snapshot_zxid, -1);
  tree::DataTree fresh;
  EXPECT_EQ(TreeDigest(t), TreeDigest(fresh));
}

}  // namespace
}  // namespace aviary::storage

namespace aviary::storage {
namespace {

TEST(Wal, EmptySegmentCanBeReopened) {
  TempDir d;
  {
    Wal wal(WalOptions{d.path(), true, 4096});
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
  }
  const RecoveryResult r = RecoverDir(d.path());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 0);
  Wal wal(WalOptions{d.path(), true, 4096});
  std::string err;
  ASSERT_TRUE(wal.Open(r.last_zxid + 1, &err)) << err;
  ASSERT_TRUE(wal.Append(SetTxn(1), &err));
  ASSERT_TRUE(wal.Sync(&err));
  EXPECT_EQ(RecoverDir(d.path()).last_zxid, 1);
}

TEST(Wal, TornHeaderOfLastSegment) {
  TempDir d;
  WriteSegment(d.path(), 1, 3);
  WriteAll(VersionDir(d.path()) + "/" + SegmentName(4), std::string(10, '\0'));
  const RecoveryResult r = RecoverDir(d.path());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 3);
  Wal wal(WalOptions{d.path(), true, 4096});
  std::string err;
  EXPECT_TRUE(wal.Open(4, &err)) << err;
}

}  // namespace
}  // namespace aviary::storage
