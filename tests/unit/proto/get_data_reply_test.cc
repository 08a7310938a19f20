// EncodeGetDataReply (the core's getData reply straight from the tree's
// data) writes exactly the bytes EncodeReply writes for the same
// GetDataResponse: null data, empty data, short and long data, any stat.
#include <gtest/gtest.h>

#include <string>

#include "proto/codec.h"

namespace aviary::proto {
namespace {

Stat SomeStat(int64_t seed) {
  Stat s;
  s.czxid = seed;
  s.mzxid = seed + 1;
  s.ctime = -seed;
  s.mtime = seed << 20;
  s.version = static_cast<int32_t>(seed);
  s.cversion = -3;
  s.aversion = 7;
  s.ephemeralOwner = 0x1234567890ll;
  s.dataLength = 11;
  s.numChildren = 2;
  s.pzxid = seed + 9;
  return s;
}

TEST(GetDataReply, SameBytesAsEncodeReply) {
  const std::string values[] = {"", "x", std::string(100, 'd'), std::string(70000, '\0')};
  int64_t seed = 1;
  for (const std::string& data : values) {
    for (bool data_null : {false, true}) {
      if (data_null && !data.empty()) continue;
      const ReplyHeader hdr{static_cast<int32_t>(seed), seed << 32 | 5, 0};
      const Stat stat = SomeStat(seed++);
      std::string want = "prefix";  // both append
      std::string got = "prefix";
      EncodeReply(hdr, GetDataResponse{data, stat, data_null}, &want);
      EncodeGetDataReply(hdr, data, data_null, stat, &got);
      EXPECT_EQ(got, want) << data.size() << (data_null ? " null" : "");
      // And the client's decoder reads it back.
      ReplyHeader h2;
      ResponseBody body;
      ASSERT_TRUE(DecodeReply(std::string_view(got).substr(6 + 4), OpCode::kGetData, &h2, &body));
      const auto& r = std::get<GetDataResponse>(body);
      EXPECT_EQ(r.data, data);
      EXPECT_EQ(r.data_null, data_null);
      EXPECT_EQ(r.stat, stat);
    }
  }
}

}  // namespace
}  // namespace aviary::proto
