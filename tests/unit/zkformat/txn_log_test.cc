// ZooKeeper txn log files: the ones a real ZooKeeper 3.8 wrote
// (testdata/, preallocated zero tail included), torn tails and corruption.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fixture.h"
#include "zkformat/files.h"

namespace aviary::zkformat {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Scratch {
  Scratch() {
    char tmpl[] = "/tmp/zklog-test-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
  std::string Write(const std::string& bytes) {
    std::string p = dir + "/log.1";
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
    return p;
  }
  std::string dir;
};

TEST(ZkLog, ReadsZooKeepersLogUpToThePreallocatedTail) {
  ZkLog log;
  std::string error;
  ASSERT_TRUE(ReadZkLogFile(testing::TestData("log.1"), &log, &error)) << error;
  EXPECT_EQ(log.torn_tail, "");
  ASSERT_EQ(log.records.size(), 0x23u);  // zxids 1..0x23
  EXPECT_EQ(log.records.front().offset, 16);
  int64_t zxid = 0;
  for (const ZkLogRecord& r : log.records) {
    ZkTxn t;
    ASSERT_TRUE(DecodeZkTxn(r.bytes, &t, &error)) << error;
    EXPECT_EQ(t.txn.zxid, ++zxid);
  }
}

TEST(ZkLog, TruncatedAnywhereKeepsTheWholeRecordsBefore) {
  std::string file = Slurp(testing::TestData("log.1"));
  ZkLog full;
  std::string error;
  ASSERT_TRUE(ReadZkLogFile(testing::TestData("log.1"), &full, &error));
  int64_t data_end = full.records.back().offset + 8 + 4 + static_cast<int64_t>(full.records.back().bytes.size()) + 1;
  for (int64_t n = 16; n <= data_end; ++n) {
    ZkLog log;
    ASSERT_TRUE(ParseZkLog(std::string_view(file).substr(0, static_cast<size_t>(n)), "log.1", &log, &error))
        << n << ": " << error;
    size_t whole = 0;
    while (whole < full.records.size() &&
           full.records[whole].offset + 13 + static_cast<int64_t>(full.records[whole].bytes.size()) <= n) {
      ++whole;
    }
    EXPECT_EQ(log.records.size(), whole) << "length " << n;
    bool at_boundary =
        whole == 0
            ? n == 16
            : full.records[whole - 1].offset + 13 + static_cast<int64_t>(full.records[whole - 1].bytes.size()) == n;
    EXPECT_EQ(log.torn_tail.empty(), at_boundary) << "length " << n;
  }
}

TEST(ZkLog, ChecksumMismatchAndBadHeaderAreErrors) {
  std::string file = Slurp(testing::TestData("log.1"));
  Scratch s;
  ZkLog log;
  std::string error;
  std::string flipped = file;
  flipped[16 + 12 + 5] ^= 1;  // inside the first txn's bytes
  EXPECT_FALSE(ReadZkLogFile(s.Write(flipped), &log, &error));
  EXPECT_NE(error.find("offset 16"), std::string::npos) << error;
  std::string bad_magic = file;
  bad_magic[0] = 'X';
  ZkLog log2;
  EXPECT_FALSE(ReadZkLogFile(s.Write(bad_magic), &log2, &error));
  std::string huge = file.substr(0, 16) + std::string(8, '\0') + std::string("\x7f\xff\xff\xff", 4);
  ZkLog log3;
  EXPECT_FALSE(ReadZkLogFile(s.Write(huge), &log3, &error));
}

TEST(ZkLog, MutatedFilesNeverCrash) {
  std::string file = Slurp(testing::TestData("log.1")).substr(0, 4096);
  uint32_t seed = 4242;
  for (int i = 0; i < 3000; ++i) {
    std::string b = file;
    for (int k = 0; k < 1 + i % 4; ++k) {
      seed = seed * 1103515245 + 12345;
      b[16 + seed % (b.size() - 16)] = static_cast<char>(seed >> 16);
    }
    ZkLog log;
    std::string error;
    if (!ParseZkLog(b, "log.1", &log, &error)) continue;
    for (const ZkLogRecord& r : log.records) {
      ZkTxn t;
      std::string again;
      if (DecodeZkTxn(r.bytes, &t, &error)) EncodeZkTxn(t, &again, &error);
    }
  }
}

}  // namespace
}  // namespace aviary::zkformat
