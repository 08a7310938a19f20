// Import of the captured ZooKeeper dataDir into Aviary files, checked by
// recovering those files with Aviary's own recovery.
#include "zkformat/import.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "fixture.h"
#include "storage/digest.h"
#include "storage/epoch_file.h"
#include "storage/log_range.h"
#include "storage/recovery.h"
#include "txn/apply.h"
#include "zkformat/files.h"

namespace aviary::zkformat {
namespace {

namespace fs = std::filesystem;

struct Dirs {
  Dirs() {
    char tmpl[] = "/tmp/zkimport-test-XXXXXX";
    root = mkdtemp(tmpl);
    zk = root + "/zk";
    av = root + "/av";
    fs::create_directories(zk + "/version-2");
  }
  ~Dirs() { fs::remove_all(root); }
  void Copy(const std::string& name) { fs::copy_file(testing::TestData(name), zk + "/version-2/" + name); }
  std::string root, zk, av;
};

TEST(ZkImport, RecoveredAviaryStateIsZooKeepersState) {
  Dirs d;
  for (const char* f : {"snapshot.0", "snapshot.23", "log.1", "log.24"}) d.Copy(f);
  ImportResult r;
  std::string error;
  ASSERT_TRUE(ImportZooKeeper(ImportOptions{d.zk, "", d.av, ""}, &r, &error)) << error;
  EXPECT_EQ(r.loaded.snapshot_zxid, 0x23);
  EXPECT_EQ(r.loaded.last_zxid, 0x25);
  EXPECT_EQ(r.loaded.txns.size(), 2u);
  // The log's TxnDigests come along (ZooKeeper 3.8 wrote them: digests on).
  for (const txn::Txn& t : r.loaded.txns) EXPECT_TRUE(t.zk_digest.has_value()) << t.zxid;

  // ZooKeeper's own view: its snapshot, and the logs replayed from zero.
  tree::DataTree zk_snap;
  ZkSnapshot info;
  ASSERT_TRUE(ReadZkSnapshotFile(testing::TestData("snapshot.23"), &zk_snap, &info, &error)) << error;
  tree::DataTree replayed;
  for (const ZkTxn& z : testing::FixtureTxns()) txn::Apply(replayed, z.txn);

  tree::DataTree recovered;
  storage::RecoveryOptions o;
  o.snap_dir = d.av;
  o.log_dir = d.av;
  storage::RecoveryResult rr = storage::Recover(o, &recovered);
  ASSERT_TRUE(rr.ok) << rr.error;
  EXPECT_EQ(rr.last_zxid, 0x25);
  EXPECT_EQ(storage::TreeDigest(recovered), storage::TreeDigest(zk_snap));
  EXPECT_EQ(storage::TreeDigest(recovered), storage::TreeDigest(replayed));
  // ... and are in the Aviary log written.
  storage::LogRangeReader reader;
  ASSERT_TRUE(reader.Open(d.av, 0x23, 0x25, &error)) << error;
  txn::Txn t;
  size_t with_digest = 0;
  while (reader.Next(&t))
    with_digest += t.zk_digest.has_value() && *t.zk_digest == *r.loaded.txns[with_digest].zk_digest;
  EXPECT_EQ(with_digest, 2u);
  ASSERT_EQ(rr.sessions.size(), 1u);
  EXPECT_EQ(rr.sessions[0], info.sessions[0]);  // the session left open, the probe's was closed

  ImportResult again;
  EXPECT_FALSE(ImportZooKeeper(ImportOptions{d.zk, "", d.av, ""}, &again, &error));  // target not empty
}

TEST(ZkImport, FallsBackToAnOlderSnapshotWhenTheNewestIsCut) {
  Dirs d;
  for (const char* f : {"snapshot.0", "snapshot.23", "log.1", "log.24"}) d.Copy(f);
  // A snapshot cut short by a crash while ZooKeeper was writing it.
  std::string whole;
  {
    std::ifstream in(testing::TestData("snapshot.23"), std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::ofstream(d.zk + "/version-2/snapshot.25", std::ios::binary) << whole.substr(0, whole.size() / 2);
  tree::DataTree t;
  ZkLoaded l;
  std::string error;
  ASSERT_TRUE(LoadZooKeeper(d.zk, d.zk, &t, &l, &error)) << error;
  EXPECT_EQ(l.snapshot_zxid, 0x23);
  EXPECT_EQ(l.last_zxid, 0x25);
  ASSERT_FALSE(l.warnings.empty());
  EXPECT_NE(l.warnings[0].find("snapshot.25"), std::string::npos) << l.warnings[0];
}

TEST(ZkImport, CopiesZooKeepersEpochFiles) {
  Dirs d;
  for (const char* f : {"snapshot.23", "log.1", "log.24"}) d.Copy(f);
  std::ofstream(d.zk + "/version-2/acceptedEpoch") << "3";
  std::ofstream(d.zk + "/version-2/currentEpoch") << "2";
  ImportResult r;
  std::string error;
  ASSERT_TRUE(ImportZooKeeper(ImportOptions{d.zk, "", d.av, ""}, &r, &error)) << error;
  int64_t epoch = 0;
  bool missing = false;
  ASSERT_TRUE(storage::ReadEpochFile(storage::EpochFilePath(d.av, "acceptedEpoch"), &epoch, &missing, &error));
  EXPECT_EQ(epoch, 3);
  ASSERT_TRUE(storage::ReadEpochFile(storage::EpochFilePath(d.av, "currentEpoch"), &epoch, &missing, &error));
  EXPECT_EQ(epoch, 2);
}

TEST(ZkImport, SeparateLogDirsBothSides) {
  Dirs d;
  const std::string zk_logs = d.root + "/zklog";
  fs::create_directories(zk_logs + "/version-2");
  d.Copy("snapshot.23");
  for (const char* f : {"log.1", "log.24"}) fs::copy_file(testing::TestData(f), zk_logs + "/version-2/" + f);
  ImportResult r;
  std::string error;
  const std::string av_log = d.root + "/avlog";
  ASSERT_TRUE(ImportZooKeeper(ImportOptions{d.zk, zk_logs + "/version-2", d.av, av_log}, &r, &error)) << error;
  EXPECT_EQ(r.loaded.last_zxid, 0x25);
  EXPECT_FALSE(fs::is_empty(av_log + "/version-2"));
  tree::DataTree recovered;
  storage::RecoveryOptions o;
  o.snap_dir = d.av;
  o.log_dir = av_log;
  storage::RecoveryResult rr = storage::Recover(o, &recovered);
  ASSERT_TRUE(rr.ok) << rr.error;
  EXPECT_EQ(rr.last_zxid, 0x25);
}

TEST(ZkImport, LogsAloneReplayFromTheEmptyTree) {
  Dirs d;
  d.Copy("log.1");
  tree::DataTree t;
  ZkLoaded l;
  std::string error;
  ASSERT_TRUE(LoadZooKeeper(d.zk, d.zk, &t, &l, &error)) << error;
  EXPECT_EQ(l.snapshot_zxid, -1);
  EXPECT_EQ(l.last_zxid, 0x23);
  // The session left open owns /a/eph; it is live, so the node stays.
  EXPECT_NE(t.Find("/a/eph"), nullptr);
}

TEST(ZkImport, MissingTxnsAreAnError) {
  Dirs d;
  d.Copy("snapshot.0");
  d.Copy("log.24");  // 1..0x23 are missing
  tree::DataTree t;
  ZkLoaded l;
  std::string error;
  EXPECT_FALSE(LoadZooKeeper(d.zk, d.zk, &t, &l, &error));
  EXPECT_NE(error.find("missing"), std::string::npos) << error;
}

TEST(ZkImport, EphemeralsOfDeadSessionsGoAsAtZooKeepersStart) {
  Dirs d;
  tree::DataTree src;
  ASSERT_EQ(src.CreateNode("/p", "", {}, tree::NodeKind::kPersistent, 0, 0, -1, 1, 1), proto::Err::kOk);
  ASSERT_EQ(src.CreateNode("/p/dead", "", {}, tree::NodeKind::kEphemeral, 99, 0, -1, 2, 1), proto::Err::kOk);
  ASSERT_EQ(src.CreateNode("/p/live", "", {}, tree::NodeKind::kEphemeral, 7, 0, -1, 3, 1), proto::Err::kOk);
  std::string error;
  ASSERT_TRUE(WriteZkSnapshotFile(d.zk + "/version-2", 3, src, {{7, 4000}}, &error)) << error;
  tree::DataTree t;
  ZkLoaded l;
  ASSERT_TRUE(LoadZooKeeper(d.zk, d.zk, &t, &l, &error)) << error;
  EXPECT_EQ(l.dead_ephemerals, 1u);
  EXPECT_EQ(t.Find("/p/dead"), nullptr);
  EXPECT_NE(t.Find("/p/live"), nullptr);
  EXPECT_EQ(t.Find("/p")->stat.pzxid(), 3);
}

}  // namespace
}  // namespace aviary::zkformat
