#include "config/logging_keys.h"

#include <cctype>
#include <limits>

#include "base/log.h"
#include "config/config_values.h"

namespace aviary::config::detail {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool SizeKey(std::string_view key, std::string_view value, int64_t* out, std::string* error) {
  if (!ParseByteSize(value, out)) return Invalid(key, value, "expected bytes, or a number with KB, MB or GB", error);
  return true;
}

bool AuditKey(std::string_view raw_key, std::string_view key, std::string_view value, ServerConfig* cfg, bool* handled,
              std::string* error) {
  *handled = true;
  if (key == "audit.enable" || key == "zookeeper.audit.enable") {
    cfg->audit_enable = EqualsIgnoreCase(Trim(value), "true");
    return true;
  }
  if (key == "aviary.audit.logFile") {
    cfg->audit_log_file = std::string(value);
    return true;
  }
  if (key == "aviary.audit.maxFileSize") return SizeKey(raw_key, value, &cfg->audit_max_file_bytes, error);
  if (key == "aviary.audit.queueBytes") {
    if (!SizeKey(raw_key, value, &cfg->audit_queue_bytes, error)) return false;
    if (cfg->audit_queue_bytes < 4096) return Invalid(raw_key, value, "expected at least 4KB", error);
    return true;
  }
  if (key == "aviary.audit.maxBackups") {
    int64_t v = 0;
    if (!IntValue(raw_key, value, 0, 1000, "expected an integer 0-1000", &v, error)) return false;
    cfg->audit_max_backups = static_cast<int>(v);
    return true;
  }
  *handled = false;
  return true;
}

}  // namespace

bool ParseByteSize(std::string_view text, int64_t* out) {
  text = Trim(text);
  int64_t unit = 1;
  auto ends = [&](std::string_view suffix) {
    return text.size() > suffix.size() && EqualsIgnoreCase(text.substr(text.size() - suffix.size()), suffix);
  };
  if (ends("KB")) {
    unit = 1024;
  } else if (ends("MB")) {
    unit = 1024 * 1024;
  } else if (ends("GB")) {
    unit = 1024LL * 1024 * 1024;
  }
  if (unit != 1) text = Trim(text.substr(0, text.size() - 2));
  int64_t n = 0;
  if (!ParseInt64(text, 0, std::numeric_limits<int64_t>::max() / unit, &n)) return false;
  *out = n * unit;
  return true;
}

std::string DefaultAuditFile(const ServerConfig& cfg, const char* zoo_log_dir) {
  std::string dir;
  if (!cfg.log_file.empty()) {
    size_t slash = cfg.log_file.rfind('/');
    dir = slash == std::string::npos ? "." : cfg.log_file.substr(0, slash == 0 ? 1 : slash);
  } else if (zoo_log_dir != nullptr && zoo_log_dir[0] != '\0') {
    dir = zoo_log_dir;
  } else {
    dir = cfg.data_log_dir.empty() ? cfg.data_dir : cfg.data_log_dir;
  }
  if (dir.empty()) dir = ".";
  if (dir.back() != '/') dir += '/';
  return dir + "zookeeper_audit.log";
}

bool LoggingKey(std::string_view raw_key, std::string_view key, std::string_view value, ServerConfig* cfg,
                bool* handled, std::string* error) {
  if (!AuditKey(raw_key, key, value, cfg, handled, error)) return false;
  if (*handled) return true;
  *handled = true;
  if (key == "aviary.logLevel") {
    std::string why;
    if (!log::ValidLevelSpec(value, &why)) {
      return Invalid(raw_key, value, "expected debug, info, warn or error, then optional ,<module>=<level>: " + why,
                     error);
    }
    cfg->log_level = std::string(value);
    return true;
  }
  if (key == "aviary.log.file") {
    cfg->log_file = std::string(value);
    return true;
  }
  if (key == "aviary.log.maxFileSize") return SizeKey(raw_key, value, &cfg->log_max_file_bytes, error);
  if (key == "aviary.log.maxBackups") {
    int64_t v = 0;
    if (!IntValue(raw_key, value, 0, 1000, "expected an integer 0-1000", &v, error)) return false;
    cfg->log_max_backups = static_cast<int>(v);
    return true;
  }
  if (key == "aviary.log.format") {
    if (value != "plain" && value != "journal") return Invalid(raw_key, value, "expected plain or journal", error);
    cfg->log_format = std::string(value);
    return true;
  }
  *handled = false;
  return true;
}

}  // namespace aviary::config::detail
