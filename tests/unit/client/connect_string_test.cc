#include "client/connect_string.h"

#include <gtest/gtest.h>

namespace aviary::client {
namespace {

TEST(ConnectString, HostsPortsAndChroot) {
  std::string error;
  auto cs = ParseConnectString("a:1,b,[::1]:3/app/x", &error);
  ASSERT_TRUE(cs) << error;
  ASSERT_EQ(cs->hosts.size(), 3u);
  EXPECT_EQ(cs->hosts[0].host, "a");
  EXPECT_EQ(cs->hosts[0].port, 1);
  EXPECT_EQ(cs->hosts[1].port, 2181);
  EXPECT_EQ(cs->hosts[2].host, "::1");
  EXPECT_EQ(cs->hosts[2].ToString(), "[::1]:3");
  EXPECT_EQ(cs->chroot, "/app/x");
}

TEST(ConnectString, RootChrootIsNone) {
  std::string error;
  auto cs = ParseConnectString("h:2/", &error);
  ASSERT_TRUE(cs);
  EXPECT_EQ(cs->chroot, "");
}

TEST(ConnectString, Rejects) {
  std::string error;
  EXPECT_FALSE(ParseConnectString("", &error));
  EXPECT_FALSE(ParseConnectString("h:0", &error));
  EXPECT_FALSE(ParseConnectString("h:70000", &error));
  EXPECT_FALSE(ParseConnectString("h:x", &error));
  EXPECT_FALSE(ParseConnectString(":5", &error));
  EXPECT_FALSE(ParseConnectString("h:1/a//b", &error));
  EXPECT_FALSE(ParseConnectString("[::1:5", &error));
}

TEST(Chroot, MapsBothWays) {
  EXPECT_EQ(AddChroot("/c", "/"), "/c");
  EXPECT_EQ(AddChroot("/c", "/x/y"), "/c/x/y");
  EXPECT_EQ(AddChroot("", "/x"), "/x");
  EXPECT_EQ(StripChroot("/c", "/c"), "/");
  EXPECT_EQ(StripChroot("/c", "/c/x"), "/x");
  EXPECT_EQ(StripChroot("/c", "/cx"), "/cx");
  EXPECT_EQ(StripChroot("/c", "/other"), "/other");
}

TEST(ValidatePath, ZooKeeperRules) {
  EXPECT_EQ(ValidatePath("/"), "");
  EXPECT_EQ(ValidatePath("/a/b"), "");
  EXPECT_EQ(ValidatePath(""), "Path length must be > 0");
  EXPECT_EQ(ValidatePath("a"), "Path must start with / character");
  EXPECT_EQ(ValidatePath("/a/"), "Path must not end with / character");
  EXPECT_EQ(ValidatePath("/a/", /*sequential=*/true), "");
  EXPECT_NE(ValidatePath("/a//b"), "");
  EXPECT_NE(ValidatePath("/a/./b"), "");
  EXPECT_NE(ValidatePath("/a/.."), "");
  EXPECT_NE(ValidatePath(std::string("/a\0b", 4)), "");
}

}  // namespace
}  // namespace aviary::client
