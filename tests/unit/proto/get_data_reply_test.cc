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

// A byte at a time, big-endian: the reference the block encoders (one
// append per header, Stat or whole getData reply) are checked against.
void Be(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

std::string ReferenceStat(const Stat& s) {
  std::string o;
  Be(&o, static_cast<uint64_t>(s.czxid), 8);
  Be(&o, static_cast<uint64_t>(s.mzxid), 8);
  Be(&o, static_cast<uint64_t>(s.ctime), 8);
  Be(&o, static_cast<uint64_t>(s.mtime), 8);
  Be(&o, static_cast<uint32_t>(s.version), 4);
  Be(&o, static_cast<uint32_t>(s.cversion), 4);
  Be(&o, static_cast<uint32_t>(s.aversion), 4);
  Be(&o, static_cast<uint64_t>(s.ephemeralOwner), 8);
  Be(&o, static_cast<uint32_t>(s.dataLength), 4);
  Be(&o, static_cast<uint32_t>(s.numChildren), 4);
  Be(&o, static_cast<uint64_t>(s.pzxid), 8);
  return o;
}

std::string ReferenceFrame(const ReplyHeader& hdr, const std::string& body) {
  std::string o;
  Be(&o, 16 + body.size(), 4);
  Be(&o, static_cast<uint32_t>(hdr.xid), 4);
  Be(&o, static_cast<uint64_t>(hdr.zxid), 8);
  Be(&o, static_cast<uint32_t>(hdr.err), 4);
  return o + body;
}

TEST(ReplyBytes, StatAndGetDataRepliesMatchAByteWiseReference) {
  for (int64_t seed : {1ll, -7ll, 0x7fffffffffll}) {
    const Stat stat = SomeStat(seed);
    const ReplyHeader hdr{static_cast<int32_t>(seed), seed << 8, 0};
    std::string got = "x";
    EncodeReply(hdr, StatResponse{stat}, &got);
    EXPECT_EQ(got, "x" + ReferenceFrame(hdr, ReferenceStat(stat)));
    // An error reply is the header alone.
    const ReplyHeader failed{3, seed, static_cast<int32_t>(Err::kBadVersion)};
    got.clear();
    EncodeReply(failed, StatResponse{stat}, &got);
    EXPECT_EQ(got, ReferenceFrame(failed, ""));
    for (const std::string& data : {std::string(), std::string(100, 'd'), std::string(5000, '\xff')}) {
      for (bool data_null : {false, true}) {
        if (data_null && !data.empty()) continue;
        std::string body;
        if (data_null) {
          Be(&body, 0xffffffffu, 4);
        } else {
          Be(&body, data.size(), 4);
          body += data;
        }
        body += ReferenceStat(stat);
        got = "yy";
        EncodeGetDataReply(hdr, data, data_null, stat, &got);
        EXPECT_EQ(got, "yy" + ReferenceFrame(hdr, body)) << data.size() << data_null;
      }
    }
  }
}

}  // namespace
}  // namespace aviary::proto
