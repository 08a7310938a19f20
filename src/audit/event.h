// One audit event and its text, as Apache ZooKeeper 3.8 writes them
// (org.apache.zookeeper.audit.AuditEvent, Slf4jAuditLogger): key=value
// pairs separated by a TAB, in the order session, user, ip, operation,
// znode, znode_type, acl, then always result=success|failure|invoked; a key
// whose value is absent is left out. The line in the audit file carries
// the layout of ZooKeeper's RFAAUDIT appender ("%d{ISO8601} %p %c{2}: %m%n":
// local time, INFO, or ERROR for a failure, "audit.Slf4jAuditLogger").
// Thread use: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aviary::audit {

enum class Result : uint8_t { kSuccess, kFailure, kInvoked };

// AuditConstants' operation names.
inline constexpr std::string_view kOpServerStart = "serverStart";
inline constexpr std::string_view kOpServerStop = "serverStop";
inline constexpr std::string_view kOpCreate = "create";
inline constexpr std::string_view kOpDelete = "delete";
inline constexpr std::string_view kOpSetData = "setData";
inline constexpr std::string_view kOpSetAcl = "setAcl";
inline constexpr std::string_view kOpMulti = "multiOperation";
inline constexpr std::string_view kOpReconfig = "reconfig";
inline constexpr std::string_view kOpEphemeralDeletion = "ephemeralZNodeDeletionOnSessionCloseOrExpire";

struct Event {
  std::optional<std::string> session;  // "0x" + lower-case hex, as Long.toHexString
  std::optional<std::string> user;
  std::optional<std::string> ip;
  std::string operation;
  std::optional<std::string> znode;
  std::optional<std::string> znode_type;
  std::optional<std::string> acl;
  Result result = Result::kSuccess;
};

// "session=0x1\tuser=...\t...\tresult=success"
std::string FormatEvent(const Event& e);
// The audit file's line for `e` logged at `wall_ms` (ms since the epoch),
// with its newline.
std::string FormatLine(const Event& e, int64_t wall_ms);
// "0x" + Long.toHexString(id).
std::string SessionHex(int64_t id);
const char* ResultName(Result r);

}  // namespace aviary::audit
