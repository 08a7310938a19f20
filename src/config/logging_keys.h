// Internal to src/config: the logging and audit-log keys of zoo.cfg.
//   audit.enable (also zookeeper.audit.enable, e.g. from a
//     -Dzookeeper.audit.enable=true JVM flag): true (any case) turns the
//     audit log on; any other value leaves it off, as Boolean.getBoolean;
//   aviary.audit.logFile, aviary.audit.maxFileSize, aviary.audit.maxBackups,
//     aviary.audit.queueBytes;
//   aviary.logLevel ("<level>[,<module>=<level>]..."), aviary.log.file,
//     aviary.log.maxFileSize, aviary.log.maxBackups, aviary.log.format
//     (plain|journal).
// Sizes are bytes, or a number with KB, MB or GB (log4j's MaxFileSize).
// Thread use: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "config/zoo_config.h"

namespace aviary::config::detail {

// Takes `key` when it is one of these: *handled = true, and false with
// *error for a bad value.
bool LoggingKey(std::string_view raw_key, std::string_view key, std::string_view value, ServerConfig* cfg,
                bool* handled, std::string* error);

// "10MB" -> 10485760; false for anything else than digits with an optional
// KB/MB/GB suffix (any case).
bool ParseByteSize(std::string_view text, int64_t* out);

// Where the audit file goes when aviary.audit.logFile is not set: beside
// the log file (aviary.log.file), else in $ZOO_LOG_DIR (ZooKeeper's
// zookeeper.log.dir), else in dataLogDir / dataDir; named zookeeper_audit.log
// as ZooKeeper's default logback/log4j configuration names it.
std::string DefaultAuditFile(const ServerConfig& cfg, const char* zoo_log_dir);

}  // namespace aviary::config::detail
