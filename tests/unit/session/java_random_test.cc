// java.util.Random and ZooKeeper's session password, against values printed
// by a real JVM (OpenJDK 17: new java.util.Random(seed).nextInt() /
// nextBytes(), and new Random(id ^ 0xB3415C00L).nextBytes(new byte[16]) as
// ZooKeeperServer.generatePasswd does).
#include "session/java_random.h"

#include <gtest/gtest.h>

#include <string>

#include "session/session_tracker.h"

namespace aviary::session {
namespace {

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

TEST(JavaRandom, NextIntMatchesJava) {
  JavaRandom r(42);
  EXPECT_EQ(r.NextInt(), -1170105035);
  EXPECT_EQ(r.NextInt(), 234785527);
}

TEST(JavaRandom, NextBytesTakesLowByteFirstAndDropsTheRest) {
  EXPECT_EQ(Hex(JavaRandom(7).NextBytes(5)), "99170fbb18");
}

struct Known {
  int64_t id;
  const char* passwd_hex;
};

TEST(ZooKeeperPassword, MatchesJava) {
  const Known known[] = {
      {0x0000000000000000LL, "f22acd4a97e69d6d20a49bb638eadb38"},
      {0x0000000000000001LL, "054cc74a37327db215e702e20c73f005"},
      {0x0100000a1b2c3d4eLL, "d3c25521b587309ab767ee6688e26e62"},
      {0x01000180a0b0c0d0LL, "0fde8ee9f0c61fe6804049bac2f6d678"},
      {static_cast<int64_t>(0xffffffffffffffffULL), "20f62cb5648dc2d771471c8a2486a9ee"},
      {static_cast<int64_t>(0x8000000000000001ULL), "054cc74a37327db215e702e20c73f005"},
      {0x7fffffffffffffffLL, "20f62cb5648dc2d771471c8a2486a9ee"},
      {0x0300018c1d2e3f40LL, "22dd378333729a2f03002730a889ebcb"},
  };
  for (const Known& k : known) EXPECT_EQ(Hex(ZooKeeperPassword(k.id)), k.passwd_hex) << std::hex << k.id;
}

// java.util.Random keeps 48 bits of its seed: ids that differ only in their
// top 16 bits (the server id byte among them) share a password, in
// ZooKeeper as here.
TEST(ZooKeeperPassword, OnlyTheLow48BitsOfTheIdCount) {
  EXPECT_EQ(ZooKeeperPassword(0x0100000000000005LL), ZooKeeperPassword(0x0200000000000005LL));
  EXPECT_NE(ZooKeeperPassword(0x0100000000000005LL), ZooKeeperPassword(0x0100000000000006LL));
}

TEST(SessionTrackerPasswords, SchemeSelectsKeyedOrZooKeeper) {
  SessionTracker keyed(1, 2000, 4000, 40000, 0x1234, 100);
  SessionTracker zk(1, 2000, 4000, 40000, 0x1234, 100);
  zk.set_password_scheme(PasswordScheme::kZooKeeper);
  const int64_t id = 0x0100000a1b2c3d4eLL;
  EXPECT_EQ(Hex(zk.PasswordFor(id)), "d3c25521b587309ab767ee6688e26e62");
  EXPECT_NE(keyed.PasswordFor(id), zk.PasswordFor(id));
  EXPECT_TRUE(zk.CheckPassword(id, ZooKeeperPassword(id)));
  EXPECT_FALSE(zk.CheckPassword(id, keyed.PasswordFor(id)));
  EXPECT_FALSE(keyed.CheckPassword(id, ZooKeeperPassword(id)));
  std::string wrong = ZooKeeperPassword(id);
  wrong[15] = static_cast<char>(wrong[15] ^ 1);
  EXPECT_FALSE(zk.CheckPassword(id, wrong));
  EXPECT_FALSE(zk.CheckPassword(id, ZooKeeperPassword(id).substr(0, 15)));
}

}  // namespace
}  // namespace aviary::session
