// The txn codec against txns logged by a real ZooKeeper 3.8 (testdata/).
#include "zkformat/txn_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>

#include "fixture.h"
#include "zkformat/checksum.h"

namespace aviary::zkformat {
namespace {

using proto::OpCode;
using testing::FixtureRecords;
using testing::FixtureTxns;

// CRC-32 (zlib's polynomial) a bit at a time: the reference for Crc32.
uint32_t BitwiseCrc32(std::string_view s) {
  uint32_t c = 0xffffffffu;
  for (char ch : s) {
    c ^= static_cast<uint8_t>(ch);
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return ~c;
}

std::string PseudoRandomBytes(size_t n, uint32_t seed) {
  std::string data;
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1103515245u + 12345u;
    data.push_back(static_cast<char>(seed >> 16));
  }
  return data;
}

TEST(Checksum, KnownVectors) {
  EXPECT_EQ(Adler32Of("Wikipedia"), 0x11E60398u);
  Crc32 c;
  c.Update("123456789");
  EXPECT_EQ(c.value(), 0xCBF43926u);
  // An empty view with a null pointer (the root's path, empty data) adds
  // nothing; zlib itself would restart from its initial value.
  c.Update(std::string_view());
  EXPECT_EQ(c.value(), 0xCBF43926u);
  Adler32 a;
  a.Update("Wikipedia");
  a.Update(std::string_view());
  EXPECT_EQ(a.value(), 0x11E60398u);
}

// Crc32 works a word at a time (a table loop, zlib for long inputs): every length, offset and split of an
// input gives the CRC a plain bit-at-a-time computation gives.
TEST(Checksum, Crc32MatchesBitwiseReferenceAtEveryLengthAndSplit) {
  const std::string data = PseudoRandomBytes(300, 12345);
  for (size_t off = 0; off < 8; ++off) {
    for (size_t len = 0; off + len <= 90; ++len) {
      const std::string_view s(data.data() + off, len);
      Crc32 whole;
      whole.Update(s);
      ASSERT_EQ(whole.value(), BitwiseCrc32(s)) << off << " " << len;
      Crc32 split;
      split.Update(s.substr(0, len / 3));
      split.Update(s.substr(len / 3));
      ASSERT_EQ(split.value(), BitwiseCrc32(s)) << off << " " << len;
    }
  }
  Crc32 big;
  big.Update(data);
  EXPECT_EQ(big.value(), BitwiseCrc32(data));
}

// Short inputs take a table loop, long ones (Crc32::kZlibFromBytes and up)
// zlib: the same CRC on either side of the threshold, and across a split
// whose pieces take different paths.
TEST(Checksum, Crc32SameOnBothSidesOfTheZlibThreshold) {
  const std::string data = PseudoRandomBytes(3000, 777);
  const size_t t = Crc32::kZlibFromBytes;
  for (size_t len : {t - 9, t - 1, t, t + 1, t + 7, t + 8, 2 * t + 3, data.size()}) {
    const std::string_view s(data.data() + 3, std::min(len, data.size() - 3));
    Crc32 whole;
    whole.Update(s);
    ASSERT_EQ(whole.value(), BitwiseCrc32(s)) << len;
    for (size_t cut : {size_t{1}, size_t{13}, t - 1, t, s.size() - 5}) {
      if (cut > s.size()) continue;
      Crc32 split;
      split.Update(s.substr(0, cut));
      split.Update(s.substr(cut));
      ASSERT_EQ(split.value(), BitwiseCrc32(s)) << len << " cut " << cut;
    }
  }
}

TEST(ZkTxnCodec, EveryLoggedTxnRoundTripsByteForByte) {
  auto records = FixtureRecords();
  ASSERT_GT(records.size(), 30u);
  for (const ZkLogRecord& r : records) {
    ZkTxn t;
    std::string error, again;
    ASSERT_TRUE(DecodeZkTxn(r.bytes, &t, &error)) << "offset " << r.offset << ": " << error;
    ASSERT_TRUE(EncodeZkTxn(t, &again, &error)) << error;
    EXPECT_EQ(again, r.bytes) << "offset " << r.offset;
    // ZooKeeper 3.8 appends a digest to every txn except a failed single
    // op's ErrorTxn (PrepRequestProcessor sets none on that path).
    EXPECT_EQ(t.digest.has_value(), t.txn.type != OpCode::kError) << "offset " << r.offset;
  }
}

TEST(ZkTxnCodec, FixtureCoversEveryTxnKind) {
  std::set<OpCode> top, sub;
  bool failed_multi = false, close_with_paths = false, ephemeral = false, null_data = false;
  for (const ZkTxn& z : FixtureTxns()) {
    top.insert(z.txn.type);
    for (const txn::Op& op : z.txn.multi) {
      sub.insert(op.type);
      if (op.type == OpCode::kError) failed_multi = true;
    }
    if (auto* c = std::get_if<txn::CloseSessionTxn>(&z.txn.op.body)) close_with_paths |= !c->paths_to_delete.empty();
    if (auto* c = std::get_if<txn::CreateTxn>(&z.txn.op.body)) {
      ephemeral |= c->kind == txn::NodeKind::kEphemeral && c->ephemeral_owner == z.txn.session_id;
      null_data |= c->data_null;
    }
  }
  for (OpCode t : {OpCode::kCreateSession, OpCode::kCloseSession, OpCode::kCreate, OpCode::kCreate2,
                   OpCode::kCreateContainer, OpCode::kCreateTtl, OpCode::kDelete, OpCode::kDeleteContainer,
                   OpCode::kSetData, OpCode::kSetAcl, OpCode::kError, OpCode::kMulti}) {
    EXPECT_TRUE(top.count(t)) << "no txn of type " << static_cast<int>(t);
  }
  for (OpCode t : {OpCode::kCreate, OpCode::kSetData, OpCode::kCheck, OpCode::kDelete, OpCode::kError}) {
    EXPECT_TRUE(sub.count(t)) << "no multi op of type " << static_cast<int>(t);
  }
  EXPECT_TRUE(failed_multi);
  EXPECT_TRUE(close_with_paths);
  EXPECT_TRUE(ephemeral);
  EXPECT_TRUE(null_data);
}

TEST(ZkTxnCodec, EveryPrefixAndTrailingByteIsRejected) {
  for (const ZkLogRecord& r : FixtureRecords()) {
    for (size_t n = 0; n < r.bytes.size(); ++n) {
      ZkTxn t;
      std::string error;
      std::string_view prefix(r.bytes.data(), n);
      // Valid prefixes: the txn without its digest, and a closeSession's
      // bare header (a pre-3.6 closeSession has no record).
      if (DecodeZkTxn(prefix, &t, &error)) {
        EXPECT_TRUE(n + 12 == r.bytes.size() || (n == 32 && t.txn.type == OpCode::kCloseSession))
            << "offset " << r.offset << " prefix " << n;
      }
    }
    ZkTxn t;
    std::string error;
    EXPECT_FALSE(DecodeZkTxn(r.bytes + "x", &t, &error));
  }
}

TEST(ZkTxnCodec, MutatedBytesNeverCrash) {
  uint32_t seed = 12345;
  for (const ZkLogRecord& r : FixtureRecords()) {
    for (int i = 0; i < 200; ++i) {
      std::string b = r.bytes;
      seed = seed * 1103515245 + 12345;
      b[seed % b.size()] = static_cast<char>(seed >> 16);
      ZkTxn t;
      std::string error, out;
      if (DecodeZkTxn(b, &t, &error)) EncodeZkTxn(t, &out, &error);
    }
  }
}

TEST(ZkTxnCodec, RefusesWhatZooKeeperCannotExpress) {
  ZkTxn z;
  z.txn.session_id = 5;
  z.txn.type = OpCode::kCreate;
  txn::CreateTxn c;
  c.path = "/x";
  c.kind = txn::NodeKind::kEphemeral;
  c.ephemeral_owner = 6;  // not the txn's session
  z.txn.op = txn::Op{OpCode::kCreate, c};
  std::string out, error;
  EXPECT_FALSE(EncodeZkTxn(z, &out, &error));
  EXPECT_TRUE(out.empty());
  c.ephemeral_owner = 5;
  c.kind = txn::NodeKind::kContainer;  // a container needs createContainer
  z.txn.op = txn::Op{OpCode::kCreate, c};
  EXPECT_FALSE(EncodeZkTxn(z, &out, &error));
  z.txn.type = OpCode::kMulti;
  z.txn.multi = {txn::Op{OpCode::kSetAcl, txn::SetAclTxn{"/x", {}, 1}}};  // not allowed inside a multi
  EXPECT_FALSE(EncodeZkTxn(z, &out, &error));
}

TEST(ZkTxnCodec, FillClosePathsListsTheSessionsEphemerals) {
  tree::DataTree tree;
  ASSERT_EQ(tree.CreateNode("/e1", "", {}, tree::NodeKind::kEphemeral, 7, 0, -1, 1, 1), proto::Err::kOk);
  ASSERT_EQ(tree.CreateNode("/e2", "", {}, tree::NodeKind::kEphemeral, 8, 0, -1, 2, 1), proto::Err::kOk);
  txn::Txn t;
  t.session_id = 7;
  t.type = OpCode::kCloseSession;
  t.op = txn::Op{OpCode::kCloseSession, txn::CloseSessionTxn{}};
  FillClosePaths(tree, &t);
  EXPECT_EQ(std::get<txn::CloseSessionTxn>(t.op.body).paths_to_delete, std::vector<std::string>{"/e1"});
}

}  // namespace
}  // namespace aviary::zkformat
