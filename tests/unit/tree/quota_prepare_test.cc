// Quota enforcement at prepare (zookeeper.enforceQuota).
#include <gtest/gtest.h>

#include "helpers.h"
#include "tree/quota.h"
#include "txn/quota_check.h"

namespace aviary::txn {
namespace {

using proto::Err;
using namespace testing;

struct QuotaFixture : Fixture {
  QuotaErrorCounts errors;
  explicit QuotaFixture(bool enforce) : Fixture(Options(enforce, &errors)) {}
  static PrepareOptions Options(bool enforce, QuotaErrorCounts* errors) {
    PrepareOptions o;
    o.enforce_quota = enforce;
    o.quota_errors = errors;
    return o;
  }
  // zkCli setquota's writes, through prepare + apply like any client's.
  void SetQuota(const std::string& path, const std::string& limits) {
    std::string q = "/zookeeper/quota";
    for (size_t i = 1; i <= path.size();) {
      size_t j = path.find('/', i);
      if (j == std::string::npos) j = path.size();
      q += "/" + path.substr(i, j - i);
      Run(CreateReq(q));
      i = j + 1;
    }
    ASSERT_EQ(RunErr(CreateReq(q + "/zookeeper_limits", limits)), Err::kOk);
    ASSERT_EQ(RunErr(CreateReq(q + "/zookeeper_stats", "count=0,bytes=0")), Err::kOk);
  }
  std::string Stats(const std::string& p) { return std::string(tree.Find(tree::QuotaStatPath(p))->data); }
};

constexpr const char* kHardCount3 = "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3";
constexpr const char* kHardBytes10 = "count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=-1";

TEST(QuotaPrepare, HardCountLimitRefusesCreatesOnlyWhenEnforced) {
  for (bool enforce : {false, true}) {
    QuotaFixture f(enforce);
    ASSERT_EQ(f.RunErr(CreateReq("/q")), Err::kOk);
    f.SetQuota("/q", kHardCount3);
    EXPECT_EQ(f.RunErr(CreateReq("/q/a")), Err::kOk);
    EXPECT_EQ(f.RunErr(CreateReq("/q/b")), Err::kOk);  // count 3 = limit
    EXPECT_EQ(f.RunErr(CreateReq("/q/c")), enforce ? Err::kQuotaExceeded : Err::kOk);
    EXPECT_EQ(f.Stats("/q"), enforce ? "count=3,bytes=0" : "count=4,bytes=0");
    EXPECT_EQ(f.errors.Snapshot(),
              (enforce ? std::map<std::string, int64_t>{{"q", 1}} : std::map<std::string, int64_t>{}));
    // Outside the quota nothing is limited; deleting frees room.
    EXPECT_EQ(f.RunErr(CreateReq("/free")), Err::kOk);
    EXPECT_EQ(f.RunErr(DeleteReq("/q/a")), Err::kOk);
    EXPECT_EQ(f.RunErr(CreateReq("/q/d")), Err::kOk);
  }
}

TEST(QuotaPrepare, HardByteLimitChecksCreateAndSetDataBeforeTheVersion) {
  QuotaFixture f(true);
  ASSERT_EQ(f.RunErr(CreateReq("/q", "12")), Err::kOk);
  f.SetQuota("/q", kHardBytes10);
  EXPECT_EQ(f.RunErr(CreateReq("/q/a", "123456789")), Err::kQuotaExceeded);  // 2 + 9 > 10
  EXPECT_EQ(f.RunErr(CreateReq("/q/a", "12345678")), Err::kOk);              // 10
  EXPECT_EQ(f.RunErr(SetDataReq("/q/a", "123456789")), Err::kQuotaExceeded);
  // ZooKeeper checks the quota before the version: a bad version still
  // answers QuotaExceeded when the data does not fit.
  EXPECT_EQ(f.RunErr(SetDataReq("/q/a", "123456789", 42)), Err::kQuotaExceeded);
  EXPECT_EQ(f.RunErr(SetDataReq("/q/a", "1", 42)), Err::kBadVersion);
  EXPECT_EQ(f.RunErr(SetDataReq("/q/a", "1")), Err::kOk);  // shrinking
  EXPECT_EQ(f.RunErr(CreateReq("/q/b")), Err::kOk);        // count is not limited
  EXPECT_EQ(f.Stats("/q"), "count=3,bytes=3");
}

TEST(QuotaPrepare, SoftLimitsOnlyLog) {
  QuotaFixture f(true);
  ASSERT_EQ(f.RunErr(CreateReq("/q")), Err::kOk);
  f.SetQuota("/q", "count=1,bytes=1");
  EXPECT_EQ(f.RunErr(CreateReq("/q/a", "xyz")), Err::kOk);
  EXPECT_EQ(f.RunErr(CreateReq("/q/b", "xyz")), Err::kOk);
  EXPECT_EQ(f.Stats("/q"), "count=3,bytes=6");
  EXPECT_EQ(f.errors.Total(), 0);
}

TEST(QuotaPrepare, PendingTxnsAndMultiOpsCountTogether) {
  QuotaFixture f(true);
  ASSERT_EQ(f.RunErr(CreateReq("/q")), Err::kOk);
  f.SetQuota("/q", kHardCount3);
  // Two creates prepared before either is applied: the second sees the first.
  Txn a = f.Prep(CreateReq("/q/a"));
  Txn b = f.Prep(CreateReq("/q/b"));
  Txn c = f.Prep(CreateReq("/q/c"));
  EXPECT_EQ(TxnErr(a), Err::kOk);
  EXPECT_EQ(TxnErr(b), Err::kOk);
  EXPECT_EQ(TxnErr(c), Err::kQuotaExceeded);
  f.Commit(a);
  f.Commit(b);
  f.Commit(c);
  EXPECT_EQ(f.Stats("/q"), "count=3,bytes=0");
  ASSERT_EQ(f.prep.PendingRecords(), 0u);
  // A multi whose ops pass the limit together fails whole, and what its
  // earlier ops recorded is forgotten.
  EXPECT_EQ(f.RunErr(DeleteReq("/q/a")), Err::kOk);
  ApplyResult m = f.Run(MultiReq({MCreate("/q/m1"), MCreate("/q/m2")}));
  ASSERT_EQ(m.results.size(), 2u);
  EXPECT_EQ(m.results[0].err, Err::kOk);
  EXPECT_EQ(m.results[1].err, Err::kQuotaExceeded);
  EXPECT_EQ(f.tree.Find("/q/m1"), nullptr);
  EXPECT_EQ(f.RunErr(CreateReq("/q/m1")), Err::kOk);  // the failed multi left nothing pending
  // A delete is credited only once applied (as ZooKeeper, which reads the
  // applied stats): delete + create in one multi does not fit a full quota.
  m = f.Run(MultiReq({MDelete("/q/b"), MCreate("/q/m2")}));
  EXPECT_EQ(FirstMultiError(m), Err::kQuotaExceeded);
  EXPECT_EQ(f.Stats("/q"), "count=3,bytes=0");
}

TEST(QuotaPrepare, ClosingASessionFreesItsEphemeralsQuota) {
  QuotaFixture f(true);
  ASSERT_EQ(f.RunErr(CreateReq("/q")), Err::kOk);
  f.SetQuota("/q", kHardCount3);
  ASSERT_EQ(f.RunErr(CreateReq("/q/e1", "", 1), Ctx(0x55)), Err::kOk);
  ASSERT_EQ(f.RunErr(CreateReq("/q/e2", "", 1), Ctx(0x55)), Err::kOk);
  Txn close = f.prep.PrepareCloseSession(0x55, ++f.zxid, ++f.now);
  Txn early = f.Prep(CreateReq("/q/x"));  // the close is not applied yet: still full
  EXPECT_EQ(TxnErr(early), Err::kQuotaExceeded);
  f.Commit(close);
  f.Commit(early);
  EXPECT_EQ(f.Stats("/q"), "count=1,bytes=0");
  EXPECT_EQ(f.RunErr(CreateReq("/q/x")), Err::kOk);
  EXPECT_EQ(f.Stats("/q"), "count=2,bytes=0");
}

}  // namespace
}  // namespace aviary::txn
