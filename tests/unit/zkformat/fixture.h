// Access to the ZooKeeper files captured in testdata/ (see testdata/README.md).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../source_dir.h"
#include "zkformat/files.h"
#include "zkformat/txn_codec.h"

namespace aviary::zkformat::testing {

inline std::string TestData(const std::string& name) {
  return std::string(AviarySourceDir()) + "/tests/unit/zkformat/testdata/version-2/" + name;
}

// Every record of the captured logs, in file order.
inline std::vector<ZkLogRecord> FixtureRecords() {
  std::vector<ZkLogRecord> all;
  for (const char* name : {"log.1", "log.24"}) {
    ZkLog log;
    std::string error;
    EXPECT_TRUE(ReadZkLogFile(TestData(name), &log, &error)) << error;
    EXPECT_EQ(log.torn_tail, "");
    all.insert(all.end(), log.records.begin(), log.records.end());
  }
  return all;
}

inline std::vector<ZkTxn> FixtureTxns() {
  std::vector<ZkTxn> out;
  for (const ZkLogRecord& r : FixtureRecords()) {
    ZkTxn t;
    std::string error;
    EXPECT_TRUE(DecodeZkTxn(r.bytes, &t, &error)) << "offset " << r.offset << ": " << error;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace aviary::zkformat::testing
