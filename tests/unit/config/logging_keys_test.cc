// The logging and audit-log keys of zoo.cfg (config/logging_keys.h).
#include "config/logging_keys.h"

#include <gtest/gtest.h>

#include <string>

#include "config/zoo_config.h"

namespace aviary::config {
namespace {

ServerConfig Parse(const std::string& extra) {
  ServerConfig cfg;
  std::string error;
  EXPECT_TRUE(ParseZooConfig("dataDir=/d\n" + extra, &cfg, &error)) << error;
  EXPECT_TRUE(cfg.warnings.empty()) << cfg.warnings.front();
  return cfg;
}

std::string ParseError(const std::string& extra) {
  ServerConfig cfg;
  std::string error;
  EXPECT_FALSE(ParseZooConfig("dataDir=/d\n" + extra, &cfg, &error)) << extra;
  return error;
}

TEST(LoggingKeys, Defaults) {
  ServerConfig cfg = Parse("");
  EXPECT_FALSE(cfg.audit_enable);
  EXPECT_EQ(cfg.log_file, "");
  EXPECT_EQ(cfg.log_format, "plain");
  EXPECT_EQ(cfg.audit_max_file_bytes, 10 * 1024 * 1024);
  EXPECT_EQ(cfg.audit_max_backups, 10);
  EXPECT_EQ(detail::DefaultAuditFile(cfg, nullptr), "/d/zookeeper_audit.log");
  EXPECT_EQ(detail::DefaultAuditFile(cfg, "/var/log/zookeeper"), "/var/log/zookeeper/zookeeper_audit.log");
}

TEST(LoggingKeys, AuditKeys) {
  ServerConfig cfg = Parse(
      "audit.enable=true\naviary.audit.logFile=/tmp/a.log\naviary.audit.maxFileSize=2MB\n"
      "aviary.audit.maxBackups=3\naviary.audit.queueBytes=64KB\n");
  EXPECT_TRUE(cfg.audit_enable);
  EXPECT_EQ(cfg.audit_log_file, "/tmp/a.log");
  EXPECT_EQ(cfg.audit_max_file_bytes, 2 * 1024 * 1024);
  EXPECT_EQ(cfg.audit_max_backups, 3);
  EXPECT_EQ(cfg.audit_queue_bytes, 64 * 1024);
  EXPECT_NE(ParseError("aviary.audit.maxFileSize=ten\n").find("aviary.audit.maxFileSize"), std::string::npos);
  EXPECT_NE(ParseError("aviary.audit.queueBytes=10\n").find("at least 4KB"), std::string::npos);
}

TEST(LoggingKeys, LogKeys) {
  ServerConfig cfg = Parse(
      "aviary.logLevel=warn,peer=debug\naviary.log.file=/var/log/aviary/aviary.log\naviary.log.maxFileSize=1024\n"
      "aviary.log.maxBackups=0\naviary.log.format=journal\n");
  EXPECT_EQ(cfg.log_level, "warn,peer=debug");
  EXPECT_EQ(cfg.log_max_file_bytes, 1024);
  EXPECT_EQ(cfg.log_max_backups, 0);
  EXPECT_EQ(cfg.log_format, "journal");
  // The audit file goes beside the log file by default.
  EXPECT_EQ(detail::DefaultAuditFile(cfg, "/elsewhere"), "/var/log/aviary/zookeeper_audit.log");
  EXPECT_NE(ParseError("aviary.logLevel=info,nosuchmodule=debug\n").find("unknown log module"), std::string::npos);
  EXPECT_NE(ParseError("aviary.log.format=json\n").find("plain or journal"), std::string::npos);
}

TEST(LoggingKeys, ByteSizes) {
  int64_t v = 0;
  EXPECT_TRUE(detail::ParseByteSize("10MB", &v));
  EXPECT_EQ(v, 10 * 1024 * 1024);
  EXPECT_TRUE(detail::ParseByteSize("3 kb", &v));
  EXPECT_EQ(v, 3 * 1024);
  EXPECT_TRUE(detail::ParseByteSize("1GB", &v));
  EXPECT_EQ(v, 1024LL * 1024 * 1024);
  EXPECT_TRUE(detail::ParseByteSize("0", &v));
  EXPECT_EQ(v, 0);
  EXPECT_FALSE(detail::ParseByteSize("MB", &v));
  EXPECT_FALSE(detail::ParseByteSize("-1MB", &v));
  EXPECT_FALSE(detail::ParseByteSize("99999999999GB", &v));
}

}  // namespace
}  // namespace aviary::config
