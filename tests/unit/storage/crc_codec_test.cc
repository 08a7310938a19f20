#include <gtest/gtest.h>

#include <string>

#include "base/slicing_crc.h"
#include "storage/crc32c.h"
#include "storage/layout.h"
#include "storage/txn_codec.h"

namespace aviary::storage {
namespace {

using proto::OpCode;

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Crc32c(0, "123456789", 9), 0xE3069283u);
  EXPECT_EQ(Crc32c(0, "", 0), 0u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(0, zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
  const std::string ones(32, '\xff');
  EXPECT_EQ(Crc32c(0, ones.data(), ones.size()), 0x62A8AB43u);
  std::string inc(32, '\0');
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<char>(i);
  EXPECT_EQ(Crc32c(0, inc.data(), inc.size()), 0x46DD794Eu);
}

TEST(Crc32c, IncrementalEqualsOneShot) {
  std::string s;
  for (int i = 0; i < 1000; ++i) s.push_back(static_cast<char>(i * 7 + 3));
  const uint32_t whole = Crc32c(0, s.data(), s.size());
  for (size_t cut : {0ul, 1ul, 7ul, 8ul, 9ul, 500ul, 999ul, 1000ul}) {
    EXPECT_EQ(Crc32c(Crc32c(0, s.data(), cut), s.data() + cut, s.size() - cut), whole) << cut;
  }
}

// The table fallback (machines without SSE 4.2) gives what Crc32c gives,
// at every length around its 8-byte step.
TEST(Crc32c, SoftwareTablesMatch) {
  constexpr base::SlicingCrcTables kCastagnoli(0x82F63B78u);
  auto soft = [&](const std::string& s) {
    return base::SlicingCrc(kCastagnoli, 0, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  EXPECT_EQ(soft("123456789"), 0xE3069283u);
  std::string s;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(soft(s), Crc32c(0, s.data(), s.size())) << s.size();
    s.push_back(static_cast<char>(i * 37 + 11));
  }
}

TEST(Layout, Names) {
  EXPECT_EQ(VersionDir("/d"), "/d/version-2");
  EXPECT_EQ(SegmentName(0x1ab), "log.00000000000001ab");
  EXPECT_EQ(SnapshotName(0x100000001), "snapshot.0000000100000001");
  int64_t z = 0;
  EXPECT_TRUE(ParseSegmentName("log.00000000000001ab", &z));
  EXPECT_EQ(z, 0x1ab);
  EXPECT_TRUE(ParseSegmentName("log.1ab", &z));  // ZooKeeper's unpadded names
  EXPECT_FALSE(ParseSegmentName("log.1ab.corrupt", &z));
  EXPECT_FALSE(ParseSnapshotName("snapshot.10.tmp", &z));
  EXPECT_FALSE(ParseSnapshotName("snapshot.", &z));
}

proto::AclList Acl() {
  return {proto::Acl{31, proto::Id{"world", "anyone"}}, proto::Acl{1, proto::Id{"digest", "u:h"}}};
}

txn::Txn Base(OpCode type) {
  txn::Txn t;
  t.session_id = 0x1234567890abcdefLL;
  t.cxid = -7;
  t.zxid = 0x100000042LL;
  t.time_ms = 1700000000123LL;
  t.type = type;
  return t;
}

std::string Enc(const txn::Txn& t) {
  std::string s;
  EncodeTxn(t, &s);
  return s;
}

txn::Txn RoundTrip(const txn::Txn& t) {
  txn::Txn out;
  const std::string e = Enc(t);
  // The prepare-time size bound counts exactly what the log writes.
  EXPECT_EQ(EncodedTxnBytes(t), e.size());
  EXPECT_TRUE(DecodeTxn(e, &out));
  EXPECT_EQ(out.session_id, t.session_id);
  EXPECT_EQ(out.cxid, t.cxid);
  EXPECT_EQ(out.zxid, t.zxid);
  EXPECT_EQ(out.time_ms, t.time_ms);
  EXPECT_EQ(out.type, t.type);
  EXPECT_EQ(out.op.type, t.op.type);
  EXPECT_EQ(out.op.body.index(), t.op.body.index());
  EXPECT_EQ(out.multi.size(), t.multi.size());
  EXPECT_EQ(Enc(out), e);
  // Every strict prefix and any trailing byte is rejected.
  txn::Txn junk;
  for (size_t n = 0; n < e.size(); ++n) EXPECT_FALSE(DecodeTxn(std::string_view(e).substr(0, n), &junk)) << n;
  EXPECT_FALSE(DecodeTxn(e + "x", &junk));
  return out;
}

TEST(TxnCodec, CreateAllFields) {
  for (OpCode op : {OpCode::kCreate, OpCode::kCreate2, OpCode::kCreateContainer, OpCode::kCreateTtl}) {
    txn::Txn t = Base(op);
    t.op = txn::Op{op, txn::CreateTxn{"/a/b", std::string("d\0ta", 4), Acl(), txn::NodeKind::kTtl, 77, 5000, 9, true}};
    const txn::Txn out = RoundTrip(t);
    const auto& c = std::get<txn::CreateTxn>(out.op.body);
    EXPECT_EQ(c.path, "/a/b");
    EXPECT_EQ(c.data, std::string("d\0ta", 4));
    EXPECT_EQ(c.acl, Acl());
    EXPECT_EQ(c.kind, txn::NodeKind::kTtl);
    EXPECT_EQ(c.ephemeral_owner, 77);
    EXPECT_EQ(c.ttl_ms, 5000);
    EXPECT_EQ(c.parent_cversion, 9);
    EXPECT_TRUE(c.data_null);
  }
}

TEST(TxnCodec, EveryOtherOp) {
  txn::Txn t = Base(OpCode::kDelete);
  t.op = txn::Op{OpCode::kDeleteContainer, txn::DeleteTxn{"/x"}};
  EXPECT_EQ(std::get<txn::DeleteTxn>(RoundTrip(t).op.body).path, "/x");

  t = Base(OpCode::kSetData);
  t.op = txn::Op{OpCode::kSetData, txn::SetDataTxn{"/s", "new", 12, false}};
  auto sd = std::get<txn::SetDataTxn>(RoundTrip(t).op.body);
  EXPECT_EQ(sd.path, "/s");
  EXPECT_EQ(sd.data, "new");
  EXPECT_EQ(sd.version, 12);
  EXPECT_FALSE(sd.data_null);
  t.op = txn::Op{OpCode::kSetData, txn::SetDataTxn{"/s", "", 13, true}};
  EXPECT_TRUE(std::get<txn::SetDataTxn>(RoundTrip(t).op.body).data_null);

  t = Base(OpCode::kSetAcl);
  t.op = txn::Op{OpCode::kSetAcl, txn::SetAclTxn{"/acl", Acl(), 4}};
  auto sa = std::get<txn::SetAclTxn>(RoundTrip(t).op.body);
  EXPECT_EQ(sa.acl, Acl());
  EXPECT_EQ(sa.version, 4);

  t = Base(OpCode::kCheck);
  t.op = txn::Op{OpCode::kCheck, txn::CheckTxn{"/c", 3}};
  EXPECT_EQ(std::get<txn::CheckTxn>(RoundTrip(t).op.body).version, 3);

  t = Base(OpCode::kCreateSession);
  t.op = txn::Op{OpCode::kCreateSession, txn::CreateSessionTxn{30000}};
  EXPECT_EQ(std::get<txn::CreateSessionTxn>(RoundTrip(t).op.body).timeout_ms, 30000);

  t = Base(OpCode::kCloseSession);
  t.op = txn::Op{OpCode::kCloseSession, txn::CloseSessionTxn{{"/e1", "/e2"}}};
  EXPECT_EQ(std::get<txn::CloseSessionTxn>(RoundTrip(t).op.body).paths_to_delete,
            (std::vector<std::string>{"/e1", "/e2"}));

  t = Base(OpCode::kError);
  t.op = txn::Op{OpCode::kError, txn::ErrorTxn{proto::Err::kNoNode}};
  EXPECT_EQ(std::get<txn::ErrorTxn>(RoundTrip(t).op.body).err, proto::Err::kNoNode);
}

TEST(TxnCodec, Multi) {
  txn::Txn t = Base(OpCode::kMulti);
  t.multi.push_back(
      txn::Op{OpCode::kCreate, txn::CreateTxn{"/m", "", Acl(), txn::NodeKind::kEphemeral, 5, 0, 1, false}});
  t.multi.push_back(txn::Op{OpCode::kDelete, txn::DeleteTxn{"/m"}});
  t.multi.push_back(txn::Op{OpCode::kSetData, txn::SetDataTxn{"/n", "v", 2, false}});
  t.multi.push_back(txn::Op{OpCode::kCheck, txn::CheckTxn{"/n", 2}});
  t.multi.push_back(txn::Op{OpCode::kError, txn::ErrorTxn{proto::Err::kRuntimeInconsistency}});
  const txn::Txn out = RoundTrip(t);
  ASSERT_EQ(out.multi.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(out.multi[i].type, t.multi[i].type);
    EXPECT_EQ(out.multi[i].body.index(), t.multi[i].body.index());
  }
  EXPECT_EQ(std::get<txn::CreateTxn>(out.multi[0].body).kind, txn::NodeKind::kEphemeral);
  EXPECT_EQ(std::get<txn::ErrorTxn>(out.multi[4].body).err, proto::Err::kRuntimeInconsistency);

  txn::Txn empty = Base(OpCode::kMulti);
  EXPECT_TRUE(RoundTrip(empty).multi.empty());
}

// ZooKeeper's TxnDigest rides along as version 2 (so a leader's DIFF can send
// it); a txn without one stays version 1, byte for byte what it was.
TEST(TxnCodec, ZkDigestMakesVersionTwo) {
  txn::Txn t = Base(OpCode::kSetData);
  t.op = txn::Op{OpCode::kSetData, txn::SetDataTxn{"/d", "v", 3}};
  const std::string v1 = Enc(t);
  EXPECT_EQ(v1[0], 1);
  EXPECT_FALSE(RoundTrip(t).zk_digest.has_value());
  t.zk_digest = -0x123456789abcdefLL;
  const std::string v2 = Enc(t);
  EXPECT_EQ(v2[0], 2);
  EXPECT_EQ(v2.size(), v1.size() + 8);
  EXPECT_EQ(v2.substr(1, v1.size() - 1), v1.substr(1));  // same body, the digest appended
  EXPECT_EQ(RoundTrip(t).zk_digest, t.zk_digest);
  // A version-1 record with 8 more bytes is not a digest, nor a version-2 one without them.
  txn::Txn out;
  EXPECT_FALSE(DecodeTxn(v1 + v2.substr(v1.size()), &out));
  EXPECT_FALSE(DecodeTxn("\x02" + v1.substr(1), &out));
  // Decoding into a txn that had a digest clears it for a version-1 record.
  out.zk_digest = 5;
  ASSERT_TRUE(DecodeTxn(v1, &out));
  EXPECT_FALSE(out.zk_digest.has_value());
}

TEST(TxnCodec, RejectsBadVersionAndTag) {
  txn::Txn t = Base(OpCode::kDelete);
  t.op = txn::Op{OpCode::kDelete, txn::DeleteTxn{"/x"}};
  std::string e = Enc(t);
  txn::Txn out;
  std::string bad = e;
  bad[0] = 9;
  EXPECT_FALSE(DecodeTxn(bad, &out));
  bad = e;
  bad[1 + 8 + 4 + 8 + 8 + 4 + 4] = 42;  // body tag
  EXPECT_FALSE(DecodeTxn(bad, &out));
}

}  // namespace
}  // namespace aviary::storage
