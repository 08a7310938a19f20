#include "storage/wal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

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

// Issue 6, item 8: pages written back out of order before a power cut leave
// a zero-filled gap with valid records after it. Nothing after the gap was
// acknowledged (the fsync covering it never returned), so it is a torn tail;
// only a record carrying the next zxid after a bad region proves corruption.
namespace aviary::storage {
namespace {

// A segment of zxids 1..n with records big enough to span 512-byte sectors.
struct Image {
  std::string dir, path, bytes;
  std::vector<SegmentRecord> recs;
  size_t Begin(size_t i) const { return static_cast<size_t>(recs[i].offset); }
  size_t End(size_t i) const { return Begin(i) + kRecordHeaderBytes + recs[i].length; }
};

Image MakeImage(const std::string& dir, int n) {
  Image im;
  im.dir = dir;
  {
    Wal wal(WalOptions{dir, true, 1 << 16});
    std::string err;
    EXPECT_TRUE(wal.Open(1, &err)) << err;
    for (int64_t z = 1; z <= n; ++z) EXPECT_TRUE(wal.Append(SetTxn(z, std::string(1500, 'a' + z % 26)), &err));
    EXPECT_TRUE(wal.Sync(&err)) << err;
  }
  im.path = VersionDir(dir) + "/" + SegmentName(1);
  im.bytes = ReadAll(im.path);
  im.recs = ReadSegment(im.path);
  return im;
}

void Zero(std::string* s, size_t from, size_t to) { std::fill(s->begin() + from, s->begin() + to, '\0'); }

TEST(Recovery, ZeroGapThenLaterRecordsIsATornTail) {
  TempDir d;
  Image im = MakeImage(d.path(), 10);
  Zero(&im.bytes, im.Begin(5), im.End(6));  // zxids 6 and 7 never reached the disk; 8..10 did
  WriteAll(im.path, im.bytes);
  SegmentReader reader;
  std::string err;
  ASSERT_TRUE(reader.Open(im.path, &err)) << err;
  SegmentRecord rec;
  while (reader.Next(&rec)) {
  }
  EXPECT_EQ(reader.end(), SegmentEnd::kTorn) << reader.bad_reason();
  tree::DataTree t;
  const RecoveryResult r = RecoverDir(d.path(), false, &t);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 5);
  EXPECT_EQ(t.Find("/n8"), nullptr);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("torn tail truncated"), std::string::npos) << r.warnings[0];
  EXPECT_EQ(std::filesystem::file_size(im.path), im.Begin(5));
  EXPECT_EQ(RecoverDir(d.path()).last_zxid, 5);
}

TEST(Recovery, RecordWithAnUnwrittenSectorThenLaterRecordsIsATornTail) {
  TempDir d;
  Image im = MakeImage(d.path(), 10);
  // zxid 6's header and first sector(s) were written, a later sector of it
  // and all of zxid 7 were not; 8..10 were.
  const size_t sector = (im.Begin(5) + kRecordHeaderBytes + 511) / 512 * 512;
  ASSERT_LT(sector + 512, im.End(5));
  Zero(&im.bytes, sector, im.End(6));
  WriteAll(im.path, im.bytes);
  const RecoveryResult r = RecoverDir(d.path());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_zxid, 5);
}

TEST(Recovery, NextZxidAfterABadRegionIsCorruption) {
  TempDir d;
  Image im = MakeImage(d.path(), 10);
  // A zero gap and then the record that follows the last good one: data
  // after a hole that is not a crash's unwritten tail.
  std::string bytes = im.bytes.substr(0, im.End(4)) + std::string(700, '\0') + im.bytes.substr(im.Begin(5));
  WriteAll(im.path, bytes);
  RecoveryResult r = RecoverDir(d.path());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("offset " + std::to_string(im.End(4))), std::string::npos) << r.error;
  // Likewise a torn-looking record 6 followed by a valid record 6.
  bytes = im.bytes.substr(0, im.End(5));
  Zero(&bytes, (im.Begin(5) + kRecordHeaderBytes + 511) / 512 * 512, im.End(5));
  bytes += im.bytes.substr(im.Begin(5));
  WriteAll(im.path, bytes);
  r = RecoverDir(d.path());
  EXPECT_FALSE(r.ok) << "a valid next record after a torn one was truncated away";
}

TEST(Recovery, DamagedRecordFollowedByLaterRecordsIsStillCorruption) {
  TempDir d;
  Image im = MakeImage(d.path(), 10);
  im.bytes[im.Begin(5) + kRecordHeaderBytes + 700] ^= 0x10;  // bit rot in zxid 6, no unwritten sector
  WriteAll(im.path, im.bytes);
  const RecoveryResult r = RecoverDir(d.path());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("offset " + std::to_string(im.Begin(5))), std::string::npos) << r.error;
}

// Issue 6, items 1 and 2: a refused record changes nothing; after a failure
// the log is cut back to the last successful Sync, and nothing unsynced is
// written on the way out.
TEST(Wal, RefusedRecordLeavesTheLogUsable) {
  TempDir d;
  WalOptions o{d.path(), true, 4096};
  o.max_record_bytes = 4000;
  Wal wal(o);
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  ASSERT_TRUE(wal.Append(SetTxn(1), &err));
  EXPECT_FALSE(wal.Append(SetTxn(2, std::string(5000, 'x')), &err));
  EXPECT_NE(err.find("too large"), std::string::npos) << err;
  EXPECT_FALSE(wal.poisoned());
  ASSERT_TRUE(wal.Append(SetTxn(2), &err)) << err;
  ASSERT_TRUE(wal.Sync(&err)) << err;
  EXPECT_EQ(ReadSegment(VersionDir(d.path()) + "/" + SegmentName(1)).size(), 2u);
}

TEST(Wal, RollbackCutsToTheLastSync) {
  TempDir d;
  setenv("AVIARY_FAILPOINT", "wal_sync_eio_after:1", 1);
  {
    Wal wal(WalOptions{d.path(), true, 4096});
    unsetenv("AVIARY_FAILPOINT");
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    ASSERT_TRUE(wal.Append(SetTxn(1), &err));
    ASSERT_TRUE(wal.Sync(&err)) << err;
    ASSERT_TRUE(wal.Append(SetTxn(2), &err));
    ASSERT_TRUE(wal.Append(SetTxn(3), &err));
    EXPECT_FALSE(wal.Sync(&err));  // bytes of 2 and 3 reached the file; the fsync "failed"
    EXPECT_EQ(ReadSegment(VersionDir(d.path()) + "/" + SegmentName(1)).size(), 3u);
    ASSERT_TRUE(wal.Rollback(&err)) << err;
    EXPECT_EQ(wal.synced_zxid(), 1);
  }
  EXPECT_EQ(RecoverDir(d.path()).last_zxid, 1);
}

TEST(Wal, UnsyncedBytesAreNotWrittenOnDestruction) {
  TempDir d;
  {
    Wal wal(WalOptions{d.path(), true, 4096});
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    ASSERT_TRUE(wal.Append(SetTxn(1), &err));
    ASSERT_TRUE(wal.Sync(&err)) << err;
    ASSERT_TRUE(wal.Append(SetTxn(2), &err));  // never synced, never acknowledged
  }
  EXPECT_EQ(RecoverDir(d.path()).last_zxid, 1);
}

TEST(Wal, RollbackFailpoint) {
  TempDir d;
  setenv("AVIARY_FAILPOINT", "wal_sync_eio_after:1,wal_rollback_eio", 1);
  Wal wal(WalOptions{d.path(), true, 4096});
  unsetenv("AVIARY_FAILPOINT");
  std::string err;
  ASSERT_TRUE(wal.Open(1, &err)) << err;
  ASSERT_TRUE(wal.Append(SetTxn(1), &err));
  ASSERT_TRUE(wal.Sync(&err)) << err;
  ASSERT_TRUE(wal.Append(SetTxn(2), &err));
  EXPECT_FALSE(wal.Sync(&err));
  EXPECT_FALSE(wal.Rollback(&err));
  EXPECT_NE(err.find("ftruncate"), std::string::npos) << err;
}

// A group whose bytes are all still buffered is written and made durable
// by one pwritev2(RWF_DSYNC); once part of the unsynced data went out
// earlier (a buffer past 1 MiB), Sync writes the rest and fdatasyncs the
// whole file instead. Either way every record is there afterwards.
TEST(Wal, GroupIsOneDsyncWriteUnlessDataWentOutEarlier) {
  TempDir d;
  {
    Wal wal(WalOptions{d.path(), true, 1 << 20});
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    ASSERT_TRUE(wal.Append(SetTxn(1), &err));
    ASSERT_TRUE(wal.Append(SetTxn(2), &err));
    ASSERT_TRUE(wal.Sync(&err)) << err;
    EXPECT_EQ(wal.dsync_writes(), 1);
    EXPECT_EQ(wal.synced_zxid(), 2);
    int64_t z = 3;
    for (; wal.segment_bytes() < (3 << 20) / 2; ++z)
      ASSERT_TRUE(wal.Append(SetTxn(z, std::string(64 << 10, 'b')), &err));
    ASSERT_TRUE(wal.Sync(&err)) << err;  // 1 MiB went out inside Append
    EXPECT_EQ(wal.dsync_writes(), 1);
    EXPECT_EQ(wal.synced_zxid(), z - 1);
    ASSERT_TRUE(wal.Append(SetTxn(z), &err));
    ASSERT_TRUE(wal.Sync(&err)) << err;
    EXPECT_EQ(wal.dsync_writes(), 2);
    EXPECT_EQ(wal.synced_zxid(), z);
    ASSERT_TRUE(wal.Sync(&err)) << err;  // nothing new: no write at all
    EXPECT_EQ(wal.dsync_writes(), 2);
  }
  const std::vector<SegmentRecord> recs = ReadSegment(VersionDir(d.path()) + "/" + SegmentName(1));
  ASSERT_GT(recs.size(), 20u);
  for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].txn.zxid, static_cast<int64_t>(i + 1));
}

// Extents of `path` still "unwritten" (fallocate()d, never written), or -1
// when the filesystem cannot tell (FIEMAP unsupported).
int UnwrittenExtents(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  constexpr unsigned kMax = 256;
  std::vector<char> buf(sizeof(fiemap) + kMax * sizeof(fiemap_extent));
  auto* fm = reinterpret_cast<fiemap*>(buf.data());
  fm->fm_start = 0;
  fm->fm_length = ~0ull;
  fm->fm_flags = FIEMAP_FLAG_SYNC;
  fm->fm_extent_count = kMax;
  const int rc = ioctl(fd, FS_IOC_FIEMAP, fm);
  close(fd);
  if (rc != 0) return -1;
  int unwritten = 0;
  for (unsigned i = 0; i < fm->fm_mapped_extents; ++i)
    unwritten += (fm->fm_extents[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN) != 0;
  return unwritten;
}

WalOptions ZeroFill(const std::string& dir, bool force_sync, int64_t step) {
  WalOptions o{dir, force_sync, 64 << 20};
  o.zero_fill_bytes = step;
  return o;
}

// Zero-fill mode: the segment grows by written zeros in whole steps, the
// data reads back, nothing is left "unwritten" (no fallocate), and past
// the data the file is zeros up to the step.
TEST(Wal, ZeroFillGrowsByWrittenZeroSteps) {
  for (bool force_sync : {true, false}) {
    TempDir d;
    const int64_t step = 64 << 10;
    const std::string path = VersionDir(d.path()) + "/" + SegmentName(1);
    Wal wal(ZeroFill(d.path(), force_sync, step));
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, step);  // the header and the first step of zeros
    int64_t z = 1;
    for (; z <= 40; ++z) {
      ASSERT_TRUE(wal.Append(SetTxn(z, std::string(3000, 'a')), &err)) << err;
      if (z % 3 == 0) {
        ASSERT_TRUE(wal.Sync(&err)) << err;  // groups, mostly one dsync write each
      }
    }
    ASSERT_TRUE(wal.Append(SetTxn(z, std::string(200 << 10, 'b')), &err)) << err;  // larger than a step
    ASSERT_TRUE(wal.Sync(&err)) << err;
    EXPECT_EQ(force_sync, wal.dsync_writes() > 0);
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_size % step, 0);
    EXPECT_GE(st.st_size, wal.segment_bytes());
    EXPECT_LT(st.st_size, wal.segment_bytes() + step);
    if (force_sync) {
      const int unwritten = UnwrittenExtents(path);
      if (unwritten >= 0) {
        EXPECT_EQ(unwritten, 0);
      }
    }
    SegmentEnd end;
    const std::vector<SegmentRecord> recs = ReadSegment(path, &end);
    EXPECT_EQ(end, SegmentEnd::kClean);
    ASSERT_EQ(recs.size(), 41u);
    for (size_t i = 0; i < recs.size(); ++i) EXPECT_EQ(recs[i].txn.zxid, static_cast<int64_t>(i + 1));
    const std::string bytes = ReadAll(path);
    EXPECT_EQ(bytes.find_first_not_of('\0', static_cast<size_t>(wal.segment_bytes())), std::string::npos);
    // Closing (a roll) cuts the zeros off; the new segment starts its own step.
    ASSERT_TRUE(wal.Roll(z + 1, &err)) << err;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, static_cast<off_t>(recs.back().offset + kRecordHeaderBytes + recs.back().length));
    ASSERT_TRUE(wal.Append(SetTxn(z + 1), &err)) << err;
    ASSERT_TRUE(wal.Sync(&err)) << err;
    ASSERT_EQ(stat(wal.segment_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_size, step);
  }
}

// The same directory recovers identically whichever way it was grown, and
// a fallocate()d segment does have unwritten extents (what zero-fill avoids).
TEST(Wal, ZeroFillRecoversLikePreallocation) {
  TempDir a, b;
  std::string err;
  {
    Wal zero(ZeroFill(a.path(), true, 4096));
    Wal falloc(WalOptions{b.path(), true, 1 << 20});
    ASSERT_TRUE(zero.Open(1, &err)) << err;
    ASSERT_TRUE(falloc.Open(1, &err)) << err;
    for (int64_t z = 1; z <= 300; ++z) {
      ASSERT_TRUE(zero.Append(SetTxn(z, std::string(static_cast<size_t>(z), 'c')), &err)) << err;
      ASSERT_TRUE(falloc.Append(SetTxn(z, std::string(static_cast<size_t>(z), 'c')), &err)) << err;
      if (z % 7 == 0) {
        ASSERT_TRUE(zero.Sync(&err)) << err;
        ASSERT_TRUE(falloc.Sync(&err)) << err;
      }
    }
    ASSERT_TRUE(zero.Sync(&err)) << err;
    ASSERT_TRUE(falloc.Sync(&err)) << err;
    const int unwritten = UnwrittenExtents(falloc.segment_path());
    if (unwritten >= 0) {
      EXPECT_GT(unwritten, 0);
    }
    EXPECT_EQ(UnwrittenExtents(zero.segment_path()) > 0, false);
  }  // not closed: the zero tail stays, as after a crash
  tree::DataTree ta, tb;
  RecoveryResult ra = RecoverDir(a.path(), false, &ta), rb = RecoverDir(b.path(), false, &tb);
  ASSERT_TRUE(ra.ok) << ra.error;
  ASSERT_TRUE(rb.ok) << rb.error;
  EXPECT_EQ(ra.last_zxid, 300);
  EXPECT_EQ(rb.last_zxid, 300);
  EXPECT_EQ(ta.NodeCount(), tb.NodeCount());
}

// After a failed fsync the segment is cut back to the last good one in
// zero-fill mode too.
TEST(Wal, ZeroFillRollbackCutsToTheLastSync) {
  TempDir d;
  setenv("AVIARY_FAILPOINT", "wal_sync_eio_after:1", 1);
  {
    Wal wal(ZeroFill(d.path(), true, 4096));
    unsetenv("AVIARY_FAILPOINT");
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    ASSERT_TRUE(wal.Append(SetTxn(1), &err));
    ASSERT_TRUE(wal.Sync(&err)) << err;
    ASSERT_TRUE(wal.Append(SetTxn(2, std::string(9000, 'd')), &err));
    EXPECT_FALSE(wal.Sync(&err));
    ASSERT_TRUE(wal.Rollback(&err)) << err;
    EXPECT_EQ(wal.synced_zxid(), 1);
  }
  EXPECT_EQ(RecoverDir(d.path()).last_zxid, 1);
}

// Two log groups in flight (DurableCommitter): group N+1's write and fsync
// may reach the disk while group N's never does. Nothing of N+1 was
// acknowledged (it is released only after N), so recovery must stop at the
// hole and never replay N+1. The lost part is whole pages (512 B sectors or
// 4 KiB pages) inside N: the page N shares with N+1 was written by N+1's
// sync, the one N shares with N-1 either by N's sync (lost) or not. Record
// sizes vary, so the hole starts at every kind of place inside a record,
// including a record's last few bytes.
TEST(Recovery, LostGroupBeforeADurableGroupIsATornTail) {
  TempDir d;
  constexpr int kTxns = 90;
  std::string image;
  std::vector<SegmentRecord> recs;
  {
    Wal wal(WalOptions{d.path(), true, 1 << 16});
    std::string err;
    ASSERT_TRUE(wal.Open(1, &err)) << err;
    for (int64_t z = 1; z <= kTxns; ++z) {
      ASSERT_TRUE(wal.Append(SetTxn(z, std::string(40 + (z * 37) % 170, 'a' + z % 26)), &err)) << err;
    }
    ASSERT_TRUE(wal.Sync(&err)) << err;
  }
  const std::string path = VersionDir(d.path()) + "/" + SegmentName(1);
  image = ReadAll(path);
  recs = ReadSegment(path);
  ASSERT_EQ(recs.size(), static_cast<size_t>(kTxns));
  auto begin = [&](int i) { return static_cast<size_t>(recs[i].offset); };
  auto end = [&](int i) { return begin(i) + kRecordHeaderBytes + recs[i].length; };
  int cases = 0;
  for (const size_t page : {size_t{512}, size_t{4096}}) {
    for (const int group : {1, 2, 5, 13}) {
      for (int first = 1; first + 2 * group <= kTxns; ++first) {
        const int last = first + group - 1;  // group N: records [first, last]
        const int next_last = last + group;  // group N+1: (last, next_last]
        for (const bool start_page_lost : {false, true}) {
          const size_t hole_from = start_page_lost ? begin(first) : (begin(first) + page - 1) / page * page;
          const size_t hole_to = end(last) / page * page;  // N+1's sync wrote the page N ends in
          if (hole_from >= hole_to) continue;              // nothing of N lost
          std::string bytes = image.substr(0, end(next_last));
          Zero(&bytes, hole_from, hole_to);
          bytes.resize(image.size(), '\0');  // later groups never written: the zero preallocation
          WriteAll(path, bytes);
          tree::DataTree t;
          const RecoveryResult r = RecoverDir(d.path(), false, &t);
          const std::string what = "page " + std::to_string(page) + ", group of " + std::to_string(group) +
                                   " from zxid " + std::to_string(first + 1) + ", hole [" + std::to_string(hole_from) +
                                   ", " + std::to_string(hole_to) + ")";
          ASSERT_TRUE(r.ok) << what << ": " << r.error;
          // zxid k + 1 is record k: N holds zxids first+1..last+1, N+1 from last+2.
          EXPECT_GE(r.last_zxid, first) << what;
          EXPECT_LE(r.last_zxid, last + 1) << what;
          EXPECT_EQ(t.Find("/n" + std::to_string(last + 2)), nullptr) << what;
          ASSERT_EQ(r.warnings.size(), 1u) << what;
          EXPECT_NE(r.warnings[0].find("torn tail truncated"), std::string::npos) << what << ": " << r.warnings[0];
          ++cases;
        }
      }
    }
  }
  EXPECT_GT(cases, 300);
}

}  // namespace
}  // namespace aviary::storage
