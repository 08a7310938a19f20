// The epoch files (storage/epoch_file.h): ZooKeeper's location and format,
// atomic writes, and QuorumPeer.loadDataBase's rules for missing files.
#include "storage/epoch_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "storage/layout.h"
#include "storage_util.h"

namespace aviary::storage {
namespace {

using testing::ReadAll;
using testing::TempDir;
using testing::WriteAll;

constexpr int64_t kEpoch(int64_t e) { return e << 32; }

std::string Path(const TempDir& d, const std::string& name) { return VersionDir(d.path()) + "/" + name; }

void Put(const TempDir& d, const std::string& name, const std::string& content) {
  std::string err;
  ASSERT_TRUE(EnsureDir(VersionDir(d.path()), &err)) << err;
  WriteAll(Path(d, name), content);
}

TEST(EpochFile, WrittenAsZooKeeperWritesThem) {
  TempDir d;
  std::string err;
  ASSERT_TRUE(StoreAcceptedEpoch(d.path(), 5, &err)) << err;
  ASSERT_TRUE(StoreCurrentEpoch(d.path(), 4, &err)) << err;
  // <dataDir>/version-2/, decimal text, no newline (Long.toString).
  EXPECT_EQ(ReadAll(Path(d, "acceptedEpoch")), "5");
  EXPECT_EQ(ReadAll(Path(d, "currentEpoch")), "4");
  EXPECT_NE(access((Path(d, "currentEpoch") + ".tmp").c_str(), F_OK), 0);
  ASSERT_TRUE(StoreCurrentEpoch(d.path(), 4294967296, &err)) << err;
  EXPECT_EQ(ReadAll(Path(d, "currentEpoch")), "4294967296");
  EXPECT_FALSE(WriteEpochFile(Path(d, "currentEpoch"), -1, &err));
  EXPECT_EQ(ReadAll(Path(d, "currentEpoch")), "4294967296");
}

TEST(EpochFile, ReadsWhatZooKeeperWrites) {
  TempDir d;
  // The bytes a ZooKeeper 3.8 QuorumPeer wrote after leading epoch 1
  // (acceptedEpoch and currentEpoch both "1", no newline), and forms its
  // reader (readLine + Long.parseLong) also takes.
  for (const auto& [text, want] : std::vector<std::pair<std::string, int64_t>>{
           {"1", 1}, {"7\n", 7}, {"+12\r\n", 12}, {"0", 0}, {"9223372036854775807", INT64_MAX}, {"3\nxyz", 3}}) {
    Put(d, "currentEpoch", text);
    int64_t e = -1;
    bool missing = true;
    std::string err;
    ASSERT_TRUE(ReadEpochFile(Path(d, "currentEpoch"), &e, &missing, &err)) << text << ": " << err;
    EXPECT_EQ(e, want) << text;
    EXPECT_FALSE(missing);
  }
  for (const std::string bad : {"", " 1", "1 ", "0x10", "-1", "abc", "9223372036854775808", "1.0"}) {
    Put(d, "currentEpoch", bad);
    int64_t e = -1;
    bool missing = true;
    std::string err;
    EXPECT_FALSE(ReadEpochFile(Path(d, "currentEpoch"), &e, &missing, &err)) << bad;
    EXPECT_FALSE(missing);
    EXPECT_NE(err.find("currentEpoch"), std::string::npos) << err;
  }
  int64_t e = -1;
  bool missing = false;
  std::string err;
  EXPECT_FALSE(ReadEpochFile(Path(d, "acceptedEpoch"), &e, &missing, &err));
  EXPECT_TRUE(missing);
}

TEST(EpochFile, MissingFilesTakeTheEpochOfTheLastZxid) {
  TempDir d;
  Epochs ep;
  std::string err;
  ASSERT_TRUE(LoadEpochs(d.path(), kEpoch(3) + 17, &ep, &err)) << err;
  EXPECT_EQ(ep.current, 3);
  EXPECT_EQ(ep.accepted, 3);
  EXPECT_EQ(ep.notes.size(), 2u);
  EXPECT_EQ(ReadAll(Path(d, "currentEpoch")), "3");
  EXPECT_EQ(ReadAll(Path(d, "acceptedEpoch")), "3");
  // Present files are used as they are (a later accepted epoch is normal).
  Put(d, "acceptedEpoch", "5");
  ASSERT_TRUE(LoadEpochs(d.path(), kEpoch(3) + 17, &ep, &err)) << err;
  EXPECT_EQ(ep.current, 3);
  EXPECT_EQ(ep.accepted, 5);
  EXPECT_TRUE(ep.notes.empty());
  // A fresh server: everything is 0.
  TempDir fresh;
  ASSERT_TRUE(LoadEpochs(fresh.path(), 0, &ep, &err)) << err;
  EXPECT_EQ(ep.current, 0);
  EXPECT_EQ(ep.accepted, 0);
}

TEST(EpochFile, CurrentEpochOlderThanTheLogIsAnErrorUnlessATmpFileHoldsIt) {
  TempDir d;
  Put(d, "currentEpoch", "2");
  Put(d, "acceptedEpoch", "4");
  Epochs ep;
  std::string err;
  EXPECT_FALSE(LoadEpochs(d.path(), kEpoch(4) + 1, &ep, &err));
  EXPECT_NE(err.find("the current epoch, 0x2, is older than the last zxid, 0x400000001"), std::string::npos) << err;
  // A crash during setCurrentEpoch(4) left currentEpoch.tmp: ZooKeeper
  // takes its value.
  Put(d, "currentEpoch.tmp", "4");
  ASSERT_TRUE(LoadEpochs(d.path(), kEpoch(4) + 1, &ep, &err)) << err;
  EXPECT_EQ(ep.current, 4);
  EXPECT_EQ(ReadAll(Path(d, "currentEpoch")), "4");
  ASSERT_EQ(ep.notes.size(), 1u);
  EXPECT_NE(ep.notes[0].find("currentEpoch.tmp found"), std::string::npos);
}

TEST(EpochFile, AcceptedBelowCurrentIsAnError) {
  TempDir d;
  Put(d, "currentEpoch", "6");
  Put(d, "acceptedEpoch", "5");
  Epochs ep;
  std::string err;
  EXPECT_FALSE(LoadEpochs(d.path(), kEpoch(5), &ep, &err));
  EXPECT_NE(err.find("the accepted epoch, 0x5, is less than the current epoch, 0x6"), std::string::npos) << err;
  Put(d, "acceptedEpoch", "garbage");
  EXPECT_FALSE(LoadEpochs(d.path(), kEpoch(5), &ep, &err));
  EXPECT_NE(err.find("acceptedEpoch: found 'garbage'"), std::string::npos) << err;
}

// A stale .tmp from a crash before the rename never replaces the file.
TEST(EpochFile, StaleTmpIsNotRead) {
  TempDir d;
  std::string err;
  ASSERT_TRUE(StoreAcceptedEpoch(d.path(), 8, &err)) << err;
  Put(d, "acceptedEpoch.tmp", "9");
  int64_t e = 0;
  bool missing = false;
  ASSERT_TRUE(ReadEpochFile(Path(d, "acceptedEpoch"), &e, &missing, &err)) << err;
  EXPECT_EQ(e, 8);
  ASSERT_TRUE(StoreAcceptedEpoch(d.path(), 10, &err)) << err;
  EXPECT_EQ(ReadAll(Path(d, "acceptedEpoch")), "10");
  EXPECT_NE(access((Path(d, "acceptedEpoch") + ".tmp").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace aviary::storage
