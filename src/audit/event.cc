#include "audit/event.h"

#include <fmt/core.h>

#include <ctime>

namespace aviary::audit {
namespace {

void Add(std::string& out, std::string_view key, const std::optional<std::string>& value) {
  if (!value) return;
  if (!out.empty()) out += '\t';
  out += key;
  out += '=';
  out += *value;
}

}  // namespace

const char* ResultName(Result r) {
  switch (r) {
    case Result::kSuccess:
      return "success";
    case Result::kFailure:
      return "failure";
    case Result::kInvoked:
      return "invoked";
  }
  return "success";
}

std::string SessionHex(int64_t id) { return fmt::format("{:#x}", static_cast<uint64_t>(id)); }

std::string FormatEvent(const Event& e) {
  std::string out;
  out.reserve(160);
  Add(out, "session", e.session);
  Add(out, "user", e.user);
  Add(out, "ip", e.ip);
  Add(out, "operation", std::optional<std::string>(e.operation));
  Add(out, "znode", e.znode);
  Add(out, "znode_type", e.znode_type);
  Add(out, "acl", e.acl);
  if (!out.empty()) out += '\t';
  out += "result=";
  out += ResultName(e.result);
  return out;
}

std::string FormatLine(const Event& e, int64_t wall_ms) {
  std::time_t secs = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
  const char* level = e.result == Result::kFailure ? "ERROR" : "INFO";
  return fmt::format("{},{:03d} {} audit.Slf4jAuditLogger: {}\n", ts, static_cast<int>(wall_ms % 1000), level,
                     FormatEvent(e));
}

}  // namespace aviary::audit
