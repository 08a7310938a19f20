// The AdminServer's keys (admin.*, also as zookeeper.admin.*): parsed into
// ServerConfig; HTTPS (forceHttps, portUnification, needClientAuth) is read.
#include <gtest/gtest.h>

#include <string>

#include "config/zoo_config.h"

namespace aviary::config {
namespace {

ServerConfig ParseAdmin(const std::string& extra, bool* ok = nullptr) {
  ServerConfig cfg;
  std::string error;
  const bool parsed = ParseZooConfig("dataDir=/d\n" + extra, &cfg, &error);
  if (ok != nullptr) *ok = parsed;
  return cfg;
}

TEST(AdminKeys, DefaultsAsZooKeeper) {
  ServerConfig c = ParseAdmin("");
  EXPECT_TRUE(c.admin_enable_server);
  EXPECT_EQ(c.admin_server_port, 8080);
  EXPECT_EQ(c.admin_server_address, "0.0.0.0");
  EXPECT_EQ(c.admin_command_url, "/commands");
  EXPECT_EQ(c.admin_idle_timeout_ms, 30000);
  EXPECT_TRUE(c.admin_snapshot_enabled);
  EXPECT_TRUE(c.admin_restore_enabled);
  EXPECT_EQ(c.admin_rate_limiter_interval_ms, 300000);
}

TEST(AdminKeys, Parsed) {
  ServerConfig c = ParseAdmin(
      "admin.serverPort=9090\nadmin.commandURL=/zk/\nzookeeper.admin.idleTimeout=5000\n"
      "admin.snapshot.enabled=false\nadmin.restore.enabled=false\nadmin.rateLimiterIntervalInMS=10\n");
  EXPECT_EQ(c.admin_server_port, 9090);
  EXPECT_EQ(c.admin_command_url, "/zk");
  EXPECT_EQ(c.admin_idle_timeout_ms, 5000);
  EXPECT_FALSE(c.admin_snapshot_enabled);
  EXPECT_FALSE(c.admin_restore_enabled);
  EXPECT_EQ(c.admin_rate_limiter_interval_ms, 10);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  bool ok = true;
  ParseAdmin("admin.commandURL=commands\n", &ok);
  EXPECT_FALSE(ok);
  ParseAdmin("admin.idleTimeout=0\n", &ok);
  EXPECT_FALSE(ok);
}

TEST(AdminKeys, Https) {
  ServerConfig c = ParseAdmin("");
  EXPECT_FALSE(c.AdminHttps());
  EXPECT_FALSE(c.admin_need_client_auth);
  c = ParseAdmin("admin.forceHttps=true\n");
  EXPECT_TRUE(c.admin_force_https);
  EXPECT_TRUE(c.AdminHttps());
  c = ParseAdmin("zookeeper.admin.portUnification=true\nadmin.needClientAuth=true\n");
  EXPECT_TRUE(c.admin_port_unification);
  EXPECT_TRUE(c.admin_need_client_auth);
  EXPECT_TRUE(c.AdminHttps());
  for (const char* key : {"admin.forceHttps", "admin.portUnification", "admin.needClientAuth"}) {
    std::string error;
    EXPECT_TRUE(CheckHonoured(ParseAdmin(std::string(key) + "=true\n"), &error)) << key << ": " << error;
    bool ok = true;
    ParseAdmin(std::string(key) + "=maybe\n", &ok);
    EXPECT_FALSE(ok) << key;
  }
}

}  // namespace
}  // namespace aviary::config
