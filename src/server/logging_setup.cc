#include "server/logging_setup.h"

#include <cstdlib>

#include "base/log.h"
#include "config/logging_keys.h"

namespace aviary::server {

bool SetUpLogging(const config::ServerConfig& cfg, const std::string& level_override, std::string* error) {
  if (!log::ApplyLevelSpec(cfg.log_level, error)) return false;
  if (!level_override.empty() && !log::ApplyLevelSpec(level_override, error)) {
    *error = "--log-level: " + *error;
    return false;
  }
  log::SinkOptions sink;
  sink.path = cfg.log_file;
  sink.max_file_bytes = cfg.log_max_file_bytes;
  sink.max_backups = cfg.log_max_backups;
  sink.format = cfg.log_format == "journal" ? log::Format::kJournal : log::Format::kPlain;
  return log::Configure(sink, error);
}

std::unique_ptr<audit::AuditLog> StartAudit(const config::ServerConfig& cfg, const std::string& server_principal,
                                            std::string* error) {
  error->clear();
  if (!cfg.audit_enable) {
    AV_LOG(kInfo, "ZooKeeper audit is disabled.");
    return nullptr;
  }
  audit::AuditOptions o;
  o.path = cfg.audit_log_file.empty() ? config::detail::DefaultAuditFile(cfg, std::getenv("ZOO_LOG_DIR"))
                                      : cfg.audit_log_file;
  o.max_file_bytes = cfg.audit_max_file_bytes;
  o.max_backups = cfg.audit_max_backups;
  o.max_queue_bytes = cfg.audit_queue_bytes;
  o.server_user = audit::ServerUser(server_principal);
  auto log = std::make_unique<audit::AuditLog>(o);
  if (!log->Start(error)) {
    *error = "audit log: " + *error;
    return nullptr;
  }
  AV_LOG(kInfo, "ZooKeeper audit is enabled: {} (user {}, rotated at {} bytes, {} backups)", o.path, o.server_user,
         o.max_file_bytes, o.max_backups);
  return log;
}

void OnReopenSignal(audit::AuditLog* audit) {
  log::Reopen();
  if (audit != nullptr) audit->Reopen();
}

void OnReloadSignal(const std::string& config_path, audit::AuditLog* audit) {
  config::ServerConfig cfg;
  std::string error;
  if (!config::LoadZooConfig(config_path, &cfg, &error)) {
    AV_LOG(kWarn, "SIGHUP: cannot re-read {}: {}; log levels unchanged", config_path, error);
  } else if (!log::ApplyLevelSpec(cfg.log_level, &error)) {
    AV_LOG(kWarn, "SIGHUP: aviary.logLevel: {}; log levels unchanged", error);
  } else {
    AV_LOG(kInfo, "SIGHUP: log levels now {}", log::CurrentLevelSpec());
  }
  OnReopenSignal(audit);
}

}  // namespace aviary::server
