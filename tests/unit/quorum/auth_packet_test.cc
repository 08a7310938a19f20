// QuorumAuthPacket (quorum SASL between members): ZooKeeper's bytes, the
// magic peek, and hostile lengths.
#include <gtest/gtest.h>

#include <string>

#include "quorum/codec.h"

namespace aviary::quorum {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

TEST(QuorumAuthPacket, MagicIsJavasNegatedLiteral) {
  // QuorumAuth.QUORUM_AUTH_MAGIC_NUMBER = -0xa0dbcafecafe1234L: the literal is
  // a negative long, so the magic is positive.
  EXPECT_EQ(kQuorumAuthMagic, static_cast<int64_t>(0 - 0xa0dbcafecafe1234ULL));
  EXPECT_GT(kQuorumAuthMagic, 0);
}

TEST(QuorumAuthPacket, GoldenBytes) {
  QuorumAuthPacket p;
  p.status = static_cast<int32_t>(QuorumAuthStatus::kInProgress);
  p.token = "";  // the learner's first packet for DIGEST-MD5: new byte[0]
  std::string out;
  EncodeQuorumAuthPacket(p, &out);
  EXPECT_EQ(out, Bytes({0x5f, 0x24, 0x35, 0x01, 0x35, 0x01, 0xed, 0xcc, 0, 0, 0, 0, 0, 0, 0, 0}));
  QuorumAuthPacket err;
  err.status = static_cast<int32_t>(QuorumAuthStatus::kError);
  err.token = "ab";
  out.clear();
  EncodeQuorumAuthPacket(err, &out);
  EXPECT_EQ(out.substr(8), Bytes({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 'a', 'b'}));
  QuorumAuthPacket null_token;
  null_token.status = 1;
  null_token.token_null = true;
  out.clear();
  EncodeQuorumAuthPacket(null_token, &out);
  EXPECT_EQ(out.substr(8), Bytes({0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}));
}

TEST(QuorumAuthPacket, RoundTripAndPrefixes) {
  QuorumAuthPacket p;
  p.status = 1;
  p.token = std::string(300, 'r');
  std::string wire;
  EncodeQuorumAuthPacket(p, &wire);
  wire += "FOLLOWS";
  for (size_t n = 0; n < wire.size() - 7; ++n) {
    QuorumAuthPacket q;
    size_t used = 0;
    EXPECT_EQ(DecodeQuorumAuthPacket(std::string_view(wire).substr(0, n), &q, &used), ParseStatus::kNeedMore) << n;
  }
  QuorumAuthPacket q;
  size_t used = 0;
  ASSERT_EQ(DecodeQuorumAuthPacket(wire, &q, &used), ParseStatus::kOk);
  EXPECT_EQ(used, wire.size() - 7);
  EXPECT_EQ(q.magic, kQuorumAuthMagic);
  EXPECT_EQ(q.status, 1);
  EXPECT_EQ(q.token, p.token);
  EXPECT_FALSE(q.token_null);
}

TEST(QuorumAuthPacket, HostileLengthsAreBadAtOnce) {
  std::string head = Bytes({0x5f, 0x24, 0x35, 0x01, 0x35, 0x01, 0xed, 0xcc, 0, 0, 0, 0});
  QuorumAuthPacket q;
  size_t used = 0;
  EXPECT_EQ(DecodeQuorumAuthPacket(head + Bytes({0xff, 0xff, 0xff, 0xfe}), &q, &used), ParseStatus::kBad);
  EXPECT_EQ(DecodeQuorumAuthPacket(head + Bytes({0x7f, 0xff, 0xff, 0xff}), &q, &used), ParseStatus::kBad);
  EXPECT_EQ(DecodeQuorumAuthPacket(head + Bytes({0, 1, 0, 1}), &q, &used), ParseStatus::kBad);  // 64 KiB + 1
  EXPECT_EQ(DecodeQuorumAuthPacket(head + Bytes({0, 1, 0, 0}), &q, &used), ParseStatus::kNeedMore);
  ASSERT_EQ(DecodeQuorumAuthPacket(head + Bytes({0xff, 0xff, 0xff, 0xff}), &q, &used), ParseStatus::kOk);
  EXPECT_TRUE(q.token_null);
}

TEST(QuorumAuthPacket, PeekTellsAnAuthenticatingPeer) {
  std::string p;
  EncodeQuorumAuthPacket({}, &p);
  EXPECT_EQ(PeekQuorumAuth(p.substr(0, 7)), ParseStatus::kNeedMore);
  EXPECT_EQ(PeekQuorumAuth(p.substr(0, 8)), ParseStatus::kOk);
  // A notification frame (int32 length, then the body) or a QuorumPacket
  // (int32 type, int64 zxid) is never the magic.
  EXPECT_EQ(PeekQuorumAuth(Bytes({0, 0, 0, 40, 0, 0, 0, 0})), ParseStatus::kBad);
  EXPECT_EQ(PeekQuorumAuth(Bytes({0, 0, 0, 11, 0, 0, 0, 1})), ParseStatus::kBad);
}

}  // namespace
}  // namespace aviary::quorum
