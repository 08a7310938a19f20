#include "session/session_tracker.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "session/siphash.h"

namespace aviary::session {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

SessionTracker Make(size_t max_sessions = 100) {
  return SessionTracker(/*server_id=*/1, /*tick_ms=*/1000, /*min=*/2000, /*max=*/20000, /*secret=*/0xfeedULL,
                        max_sessions);
}

TEST(SessionId, InitialFollowsZooKeeperScheme) {
  // ((t << 24) >>> 8) | (sid << 56): the low 40 bits of t land in bits 16..55.
  EXPECT_EQ(SessionTracker::InitialSessionId(1, 0x123456789A), 0x01123456789A0000LL);
  // Higher bits of the time are shifted out.
  EXPECT_EQ(SessionTracker::InitialSessionId(1, static_cast<int64_t>(0xFFFFFF123456789AULL)), 0x01123456789A0000LL);
  EXPECT_EQ(SessionTracker::InitialSessionId(0, 1), 0x10000LL);
  EXPECT_EQ(SessionTracker::InitialSessionId(2, 0), 0x0200000000000000LL);
  // The container marker (Long.MIN_VALUE) is skipped.
  EXPECT_EQ(SessionTracker::InitialSessionId(0x80, 0), kMin + 1);
  // server id 0xFF gives negative ids, as in ZooKeeper.
  EXPECT_LT(SessionTracker::InitialSessionId(0xFF, 5), 0);
}

TEST(SessionId, NextIncrementsAndIgnoresLaterTimes) {
  SessionTracker t = Make();
  int64_t first = t.NextSessionId(0x123456789A);
  EXPECT_EQ(first, 0x01123456789A0000LL);
  EXPECT_EQ(t.NextSessionId(999999), first + 1);
  EXPECT_EQ(t.NextSessionId(0), first + 2);
}

TEST(SessionId, NeverZero) {
  SessionTracker t(0, 1000, 2000, 20000, 1, 10);
  EXPECT_EQ(t.NextSessionId(0), 1);  // seed would be 0
  EXPECT_EQ(t.NextSessionId(0), 2);
}

TEST(SipHash, ReferenceVectors) {
  const uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
  std::string msg;
  for (int i = 0; i < 15; ++i) msg.push_back(static_cast<char>(i));
  EXPECT_EQ(SipHash24(k0, k1, ""), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(SipHash24(k0, k1, msg.substr(0, 1)), 0x74f839c593dc67fdULL);
  EXPECT_EQ(SipHash24(k0, k1, msg.substr(0, 2)), 0x0d6c8009d9a94f5aULL);
  std::array<uint8_t, 16> v0 = {0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6,
                                0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93};
  std::array<uint8_t, 16> v1 = {0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44,
                                0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45};
  std::array<uint8_t, 16> v2 = {0x81, 0x77, 0x22, 0x8d, 0xa4, 0xa4, 0x5d, 0xc7,
                                0xfc, 0xa3, 0x8b, 0xde, 0xf6, 0x0a, 0xff, 0xe4};
  EXPECT_EQ(SipHash24x128(k0, k1, ""), v0);
  EXPECT_EQ(SipHash24x128(k0, k1, msg.substr(0, 1)), v1);
  EXPECT_EQ(SipHash24x128(k0, k1, msg.substr(0, 2)), v2);
  // Longer than one block: stable and distinct.
  EXPECT_NE(SipHash24x128(k0, k1, msg), SipHash24x128(k0, k1, msg.substr(0, 14)));
}

TEST(Password, DeterministicKeyedAndChecked) {
  SessionTracker a = Make();
  SessionTracker a2 = Make();
  SessionTracker b(1, 1000, 2000, 20000, /*secret=*/0xbeefULL, 100);
  std::string p = a.PasswordFor(42);
  EXPECT_EQ(p.size(), SessionTracker::kPasswordLen);
  EXPECT_EQ(p, a.PasswordFor(42));
  EXPECT_EQ(p, a2.PasswordFor(42));
  EXPECT_NE(p, a.PasswordFor(43));
  EXPECT_NE(p, b.PasswordFor(42));
  EXPECT_TRUE(a.CheckPassword(42, p));
  EXPECT_FALSE(a.CheckPassword(43, p));
  EXPECT_FALSE(a.CheckPassword(42, p.substr(0, 15)));
  EXPECT_FALSE(a.CheckPassword(42, std::string(16, '\0')));
}

TEST(Negotiate, ClampsIntoRange) {
  SessionTracker t = Make();
  EXPECT_EQ(t.Negotiate(0), 2000);
  EXPECT_EQ(t.Negotiate(-5), 2000);
  EXPECT_EQ(t.Negotiate(1999), 2000);
  EXPECT_EQ(t.Negotiate(5000), 5000);
  EXPECT_EQ(t.Negotiate(20000), 20000);
  EXPECT_EQ(t.Negotiate(std::numeric_limits<int32_t>::max()), 20000);
}

TEST(Expiry, RoundsUpToNextTick) {
  SessionTracker t(1, 2000, 4000, 40000, 1, 10);
  EXPECT_EQ(t.ExpiryFor(10000, 5000), 16000);
  EXPECT_EQ(t.ExpiryFor(10000, 6000), 18000);  // exact multiple -> next bucket
  EXPECT_EQ(t.ExpiryFor(10001, 5999), 18000);
  EXPECT_EQ(t.ExpiryFor(0, 0), 2000);
}

TEST(Expiry, AddFindAndPop) {
  SessionTracker t(1, 2000, 4000, 40000, 1, 10);
  EXPECT_EQ(t.NextExpiryCheck(), kMax);
  ASSERT_TRUE(t.Add(7, 5000, 10000));
  const Session* s = t.Find(7);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->id, 7);
  EXPECT_EQ(s->timeout_ms, 5000);
  EXPECT_EQ(s->expiry_ms, 16000);
  EXPECT_FALSE(s->closing);
  EXPECT_EQ(t.NextExpiryCheck(), 16000);
  EXPECT_TRUE(t.PopExpired(15999).empty());
  EXPECT_EQ(t.PopExpired(16000), std::vector<int64_t>{7});
  ASSERT_NE(t.Find(7), nullptr);
  EXPECT_TRUE(t.Find(7)->closing);
  EXPECT_EQ(t.closing_count(), 1u);
  EXPECT_EQ(t.bucket_count(), 0u);
  EXPECT_EQ(t.NextExpiryCheck(), kMax);
  EXPECT_TRUE(t.PopExpired(100000).empty());  // popped once only
  t.Remove(7);
  EXPECT_EQ(t.Find(7), nullptr);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.closing_count(), 0u);
}

TEST(Expiry, TouchMovesToLaterBucket) {
  SessionTracker t = Make();  // tick 1000
  ASSERT_TRUE(t.Add(1, 4000, 0));
  EXPECT_EQ(t.Find(1)->expiry_ms, 5000);
  EXPECT_TRUE(t.Touch(1, 3000));
  EXPECT_EQ(t.Find(1)->expiry_ms, 8000);
  EXPECT_EQ(t.bucket_count(), 1u);
  EXPECT_TRUE(t.PopExpired(5000).empty());
  EXPECT_TRUE(t.PopExpired(7999).empty());
  EXPECT_EQ(t.PopExpired(8000), std::vector<int64_t>{1});
}

TEST(Expiry, TouchWithinSameBucketKeepsIt) {
  SessionTracker t = Make();
  ASSERT_TRUE(t.Add(1, 4000, 100));
  EXPECT_EQ(t.Find(1)->expiry_ms, 5000);
  EXPECT_TRUE(t.Touch(1, 900));
  EXPECT_EQ(t.Find(1)->expiry_ms, 5000);
  EXPECT_EQ(t.bucket_count(), 1u);
  EXPECT_TRUE(t.Touch(1, 1000));
  EXPECT_EQ(t.Find(1)->expiry_ms, 6000);
  EXPECT_EQ(t.bucket_count(), 1u);  // old bucket emptied and dropped
}

TEST(Expiry, PopOrderIsBucketThenId) {
  SessionTracker t = Make();
  ASSERT_TRUE(t.Add(30, 2000, 0));  // 3000
  ASSERT_TRUE(t.Add(10, 2000, 0));  // 3000
  ASSERT_TRUE(t.Add(5, 4000, 0));   // 5000
  ASSERT_TRUE(t.Add(20, 2500, 0));  // 3000
  ASSERT_TRUE(t.Add(1, 3000, 0));   // 4000
  ASSERT_TRUE(t.Add(99, 9000, 0));  // 10000
  EXPECT_EQ(t.bucket_count(), 4u);
  EXPECT_EQ(t.NextExpiryCheck(), 3000);
  EXPECT_EQ(t.PopExpired(5000), (std::vector<int64_t>{10, 20, 30, 1, 5}));
  EXPECT_EQ(t.closing_count(), 5u);
  EXPECT_EQ(t.NextExpiryCheck(), 10000);
  auto b = t.Buckets();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].first, 10000);
  EXPECT_EQ(b[0].second, std::vector<int64_t>{99});
}

TEST(Expiry, ExpiringSessionsCannotBeTouched) {
  SessionTracker t = Make();
  ASSERT_TRUE(t.Add(1, 2000, 0));
  ASSERT_TRUE(t.Add(2, 2000, 0));
  EXPECT_FALSE(t.Touch(3, 0));  // unknown
  t.SetClosing(2);
  EXPECT_TRUE(t.Find(2)->closing);
  EXPECT_FALSE(t.Touch(2, 1000));
  EXPECT_EQ(t.PopExpired(3000), std::vector<int64_t>{1});  // closing 2 is out of the buckets
  EXPECT_FALSE(t.Touch(1, 3000));
  EXPECT_EQ(t.closing_count(), 2u);
  t.SetClosing(1);  // idempotent
  EXPECT_EQ(t.closing_count(), 2u);
  t.Remove(2);
  t.Remove(2);
  t.Remove(12345);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.closing_count(), 1u);
}

TEST(Expiry, RemoveDropsFromBucket) {
  SessionTracker t = Make();
  ASSERT_TRUE(t.Add(1, 2000, 0));
  ASSERT_TRUE(t.Add(2, 2000, 0));
  t.Remove(1);
  EXPECT_EQ(t.PopExpired(3000), std::vector<int64_t>{2});
}

TEST(Limits, MaxSessionsAndDuplicates) {
  SessionTracker t = Make(/*max_sessions=*/2);
  EXPECT_TRUE(t.Add(1, 2000, 0));
  EXPECT_FALSE(t.Add(1, 2000, 0));  // already tracked
  EXPECT_TRUE(t.Add(2, 2000, 0));
  EXPECT_FALSE(t.Add(3, 2000, 0));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.Find(3), nullptr);
  t.Remove(1);
  EXPECT_TRUE(t.Add(3, 2000, 0));
  // Closing sessions still count until removed.
  t.SetClosing(2);
  EXPECT_FALSE(t.Add(4, 2000, 0));
}

TEST(Limits, RestoredSessionsAreNeverRefusedForTheCap) {
  // Recovery brings back what was committed, even past a lowered cap; only
  // new sessions are refused until enough of them close.
  SessionTracker t = Make(/*max_sessions=*/1);
  EXPECT_TRUE(t.Restore(1, 2000, 0));
  EXPECT_TRUE(t.Restore(2, 2000, 0));
  EXPECT_FALSE(t.Restore(2, 2000, 0));  // already tracked
  EXPECT_EQ(t.size(), 2u);
  EXPECT_FALSE(t.Add(3, 2000, 0));
  EXPECT_EQ(t.PopExpired(4000), (std::vector<int64_t>{1, 2}));  // scheduled like Add
  t.Remove(1);
  t.Remove(2);
  EXPECT_TRUE(t.Add(3, 2000, 0));
}

TEST(Monitoring, ForEachSeesAll) {
  SessionTracker t = Make();
  ASSERT_TRUE(t.Add(1, 2000, 0));
  ASSERT_TRUE(t.Add(2, 3000, 0));
  t.SetClosing(2);
  int n = 0, closing = 0;
  t.ForEach([&](const Session& s) {
    ++n;
    closing += s.closing ? 1 : 0;
  });
  EXPECT_EQ(n, 2);
  EXPECT_EQ(closing, 1);
  EXPECT_EQ(t.tick_ms(), 1000);
  EXPECT_EQ(t.min_timeout_ms(), 2000);
  EXPECT_EQ(t.max_timeout_ms(), 20000);
  EXPECT_EQ(t.max_sessions(), 100u);
}

// The expiry buckets are intrusive lists: random adds, touches (with and
// without a new timeout), closings, removes and pops against a model of
// ZooKeeper's ExpiryQueue (bucket time -> ids), through a move of the
// tracker.
TEST(Expiry, IntrusiveBucketsMatchAModel) {
  SessionTracker t = Make(100000);
  std::map<int64_t, std::set<int64_t>> model;  // bucket -> ids
  std::map<int64_t, int64_t> at;               // scheduled id -> bucket
  std::map<int64_t, int32_t> timeout;          // every tracked id
  std::set<int64_t> closing;
  std::mt19937 rng(11);
  int64_t now = 0;
  auto unschedule = [&](int64_t id) {
    auto it = at.find(id);
    if (it == at.end()) return;
    model[it->second].erase(id);
    if (model[it->second].empty()) model.erase(it->second);
    at.erase(it);
  };
  auto schedule = [&](int64_t id) {
    const int64_t b = t.ExpiryFor(now, timeout[id]);
    at[id] = b;
    model[b].insert(id);
  };
  for (int step = 0; step < 20000; ++step) {
    now += static_cast<int64_t>(rng() % 50);
    const int64_t id = 1 + static_cast<int64_t>(rng() % 500);
    const bool tracked = timeout.count(id) != 0;
    const bool live = tracked && closing.count(id) == 0;
    switch (rng() % 6) {
      case 0:
      case 1: {
        const auto ms = static_cast<int32_t>(2000 + rng() % 18000);
        ASSERT_EQ(t.Add(id, ms, now), !tracked);
        if (!tracked) {
          timeout[id] = ms;
          schedule(id);
        }
        break;
      }
      case 2:
        ASSERT_EQ(t.Touch(id, now), live);
        if (live) {
          unschedule(id);
          schedule(id);
        }
        break;
      case 3: {
        const auto ms = static_cast<int32_t>(2000 + rng() % 18000);
        ASSERT_EQ(t.Touch(id, now, ms), live);
        if (live) {
          timeout[id] = ms;
          unschedule(id);
          schedule(id);
        }
        break;
      }
      case 4:
        t.SetClosing(id);
        if (live) {
          unschedule(id);
          closing.insert(id);
        }
        break;
      default:
        t.Remove(id);
        unschedule(id);
        timeout.erase(id);
        closing.erase(id);
        break;
    }
    if (step % 997 == 0) {
      std::vector<int64_t> want;
      while (!model.empty() && model.begin()->first <= now) {
        for (int64_t x : model.begin()->second) {
          want.push_back(x);
          at.erase(x);
          closing.insert(x);
        }
        model.erase(model.begin());
      }
      ASSERT_EQ(t.PopExpired(now), want);
    }
    if (step == 10000) {
      SessionTracker moved(std::move(t));
      t = std::move(moved);
    }
  }
  std::vector<std::pair<int64_t, std::vector<int64_t>>> want;
  for (const auto& [b, ids] : model) want.emplace_back(b, std::vector<int64_t>(ids.begin(), ids.end()));
  EXPECT_EQ(t.Buckets(), want);
  EXPECT_EQ(t.size(), timeout.size());
  EXPECT_EQ(t.closing_count(), closing.size());
  EXPECT_EQ(t.bucket_count(), model.size());
  for (const auto& [id, ms] : timeout) {
    const Session* s = t.Find(id);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->timeout_ms, ms);
    EXPECT_EQ(s->closing, closing.count(id) != 0);
    if (at.count(id) != 0) {
      EXPECT_EQ(s->expiry_ms, at[id]);
    }
  }
}

}  // namespace
}  // namespace aviary::session
