// Settings given as -Dzookeeper.<key>=<value> JVM flags, as ZooKeeper's start
// scripts pass them (SERVER_JVMFLAGS, JVMFLAGS, java.env), read under zoo.cfg.
#include "config/jvm_flags.h"

#include <gtest/gtest.h>

#include <string>

#include "config/zoo_config.h"

namespace aviary::config {
namespace {

TEST(JvmFlags, FindsZooKeeperPropertiesInFlagText) {
  PropertyList p = ZooKeeperPropertiesInFlags(
      "-Xmx1g -Dzookeeper.authProvider.1=org.X -Djava.security.auth.login.config=/j "
      "-Dzookeeper.snapCount=5 -Dzookeeper.flag -Dzookeeper.q='a b' x-Dzookeeper.not=1");
  PropertyList want = {{"zookeeper.authProvider.1", "org.X"},
                       {"zookeeper.snapCount", "5"},
                       {"zookeeper.flag", ""},
                       {"zookeeper.q", "a b"}};
  EXPECT_EQ(p, want);
}

TEST(JvmFlags, ReadsAJavaEnvAssignment) {
  PropertyList p = ZooKeeperPropertiesInFlags(
      "#!/bin/sh\nexport SERVER_JVMFLAGS=\"$SERVER_JVMFLAGS -Dzookeeper.sessionRequireClientSASLAuth=true\"\n"
      "SERVER_JVMFLAGS=\"-Dzookeeper.superUser=admin\"\n");
  PropertyList want = {{"zookeeper.sessionRequireClientSASLAuth", "true"}, {"zookeeper.superUser", "admin"}};
  EXPECT_EQ(p, want);
  EXPECT_TRUE(ZooKeeperPropertiesInFlags("").empty());
  EXPECT_TRUE(ZooKeeperPropertiesInFlags("-Dzookeeper.").empty());
}

TEST(JvmFlags, ZooCfgWinsAndTheLastFlagWins) {
  PropertyList flags = {{"zookeeper.snapCount", "5"}, {"zookeeper.a", "1"}, {"zookeeper.a", "2"}};
  PropertyList cfg = {{"snapCount", "7"}};
  PropertyList want = {{"zookeeper.a", "2"}, {"snapCount", "7"}};
  EXPECT_EQ(MergeFlagProperties(flags, cfg), want);
  PropertyList prefixed_cfg = {{"zookeeper.a", "3"}};
  PropertyList want2 = {{"zookeeper.snapCount", "5"}, {"zookeeper.a", "3"}};
  EXPECT_EQ(MergeFlagProperties(flags, prefixed_cfg), want2);
}

TEST(JvmFlags, FlagSettingsReachTheServerConfig) {
  ServerConfig cfg;
  std::string error;
  PropertyList flags = ZooKeeperPropertiesInFlags(
      "-Dzookeeper.snapshotSizeFactor=0.5 -Dzookeeper.digest.enabled=false -Dzookeeper.maxCnxns=9");
  ASSERT_TRUE(ParseZooConfigWithFlags("dataDir=/d\nmaxCnxns=4\n", flags, &cfg, &error)) << error;
  EXPECT_DOUBLE_EQ(cfg.snapshot_size_factor, 0.5);
  EXPECT_FALSE(cfg.digest_enabled);
  EXPECT_EQ(cfg.max_cnxns, 4);  // zoo.cfg wins
  bool noted = false;
  for (const std::string& w : cfg.warnings) noted |= w.find("-Dzookeeper.digest.enabled") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(JvmFlags, EnforceQuotaFromFlagsOrZooCfgAsBooleanParseBoolean) {
  ServerConfig cfg;
  std::string error;
  ASSERT_TRUE(ParseZooConfigWithFlags("dataDir=/d\n", {}, &cfg, &error)) << error;
  EXPECT_FALSE(cfg.enforce_quota);  // ZooKeeper's default
  ASSERT_TRUE(ParseZooConfigWithFlags("dataDir=/d\n", ZooKeeperPropertiesInFlags("-Dzookeeper.enforceQuota=true"), &cfg,
                                      &error))
      << error;
  EXPECT_TRUE(cfg.enforce_quota);
  ServerConfig from_cfg;
  ASSERT_TRUE(ParseZooConfigWithFlags("dataDir=/d\nenforceQuota=TRUE\n", {}, &from_cfg, &error)) << error;
  EXPECT_TRUE(from_cfg.enforce_quota);
  ServerConfig wins;  // zoo.cfg has the last word
  ASSERT_TRUE(ParseZooConfigWithFlags("dataDir=/d\nenforceQuota=false\n",
                                      ZooKeeperPropertiesInFlags("-Dzookeeper.enforceQuota=true"), &wins, &error))
      << error;
  EXPECT_FALSE(wins.enforce_quota);
  ServerConfig odd;  // anything but true is false, with a warning
  ASSERT_TRUE(ParseZooConfigWithFlags("dataDir=/d\nenforceQuota=yes\n", {}, &odd, &error)) << error;
  EXPECT_FALSE(odd.enforce_quota);
  bool warned = false;
  for (const std::string& w : odd.warnings) warned |= w.find("enforceQuota") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(JvmFlags, ARefusedFlagStopsTheStartLikeTheZooCfgKey) {
  ServerConfig cfg;
  std::string error;
  ASSERT_TRUE(
      ParseZooConfigWithFlags("dataDir=/d\n", ZooKeeperPropertiesInFlags("-Dzookeeper.skipACL=yes"), &cfg, &error))
      << error;
  std::string refused;
  EXPECT_FALSE(CheckHonoured(cfg, &refused));
  EXPECT_NE(refused.find("skipACL"), std::string::npos) << refused;
}

}  // namespace
}  // namespace aviary::config
