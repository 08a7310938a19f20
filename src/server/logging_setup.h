// aviary-server's logging and audit-log wiring (docs/OPERATIONS.md
// "Logging", "Audit log"): levels and the log sink from zoo.cfg (and the
// command line), the audit writer from audit.enable, and what SIGHUP /
// SIGUSR1 do to them.
// Thread use: main thread only (the writers they configure are thread-safe).
#pragma once

#include <memory>
#include <string>

#include "audit/audit_log.h"
#include "config/zoo_config.h"

namespace aviary::server {

// Applies aviary.logLevel (then `level_override`, the --log-level flag, when
// not empty) and opens the log sink (aviary.log.file / format / rotation).
bool SetUpLogging(const config::ServerConfig& cfg, const std::string& level_override, std::string* error);

// audit.enable: the started audit writer (file from aviary.audit.logFile or
// its default place), whose system user is `server_principal` (the SASL
// Kerberos login) or the OS user. Null with *error empty when auditing is off.
std::unique_ptr<audit::AuditLog> StartAudit(const config::ServerConfig& cfg, const std::string& server_principal,
                                            std::string* error);

// SIGHUP: re-reads aviary.logLevel from `config_path` and applies it (a bad
// file or value keeps the current levels, with a WARN), then reopens the log
// and audit files. SIGUSR1: only reopens them (after logrotate).
void OnReloadSignal(const std::string& config_path, audit::AuditLog* audit);
void OnReopenSignal(audit::AuditLog* audit);

}  // namespace aviary::server
