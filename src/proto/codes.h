// Numeric constants of the ZooKeeper client protocol: opcodes, error codes,
// watcher event types and states, create modes, permissions, special xids.
// Values are ZooKeeper's own (ZooDefs.OpCode, KeeperException.Code,
// Watcher.Event); they are part of the wire format and never change.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aviary::proto {

enum class OpCode : int32_t {
  kNotification = 0,
  kCreate = 1,
  kDelete = 2,
  kExists = 3,
  kGetData = 4,
  kSetData = 5,
  kGetAcl = 6,
  kSetAcl = 7,
  kGetChildren = 8,
  kSync = 9,
  kPing = 11,
  kGetChildren2 = 12,
  kCheck = 13,
  kMulti = 14,
  kCreate2 = 15,
  kReconfig = 16,
  kCheckWatches = 17,
  kRemoveWatches = 18,
  kCreateContainer = 19,
  kDeleteContainer = 20,
  kCreateTtl = 21,
  kMultiRead = 22,
  kAuth = 100,
  kSetWatches = 101,
  kSasl = 102,
  kGetEphemerals = 103,
  kGetAllChildrenNumber = 104,
  kSetWatches2 = 105,
  kAddWatch = 106,
  kWhoAmI = 107,
  kCreateSession = -10,
  kCloseSession = -11,
  kError = -1,
};

// KeeperException.Code values.
enum class Err : int32_t {
  kOk = 0,
  kSystemError = -1,
  kRuntimeInconsistency = -2,
  kDataInconsistency = -3,
  kConnectionLoss = -4,
  kMarshallingError = -5,
  kUnimplemented = -6,
  kOperationTimeout = -7,
  kBadArguments = -8,
  kUnknownSession = -12,
  kNewConfigNoQuorum = -13,
  kReconfigInProgress = -14,
  kApiError = -100,
  kNoNode = -101,
  kNoAuth = -102,
  kBadVersion = -103,
  kNoChildrenForEphemerals = -108,
  kNodeExists = -110,
  kNotEmpty = -111,
  kSessionExpired = -112,
  kInvalidCallback = -113,
  kInvalidAcl = -114,
  kAuthFailed = -115,
  kSessionMoved = -118,
  kNotReadOnly = -119,
  kEphemeralOnLocalSession = -120,
  kNoWatcher = -121,
  kRequestTimeout = -122,
  kReconfigDisabled = -123,
  kSessionClosedRequireSaslAuth = -124,
  kQuotaExceeded = -125,
  kThrottledOp = -127,
};

// Name as ZooKeeper spells it in KeeperException.Code (e.g. "NONODE").
std::string_view ErrName(Err e);
std::string_view OpName(OpCode op);

enum class EventType : int32_t {
  kNone = -1,
  kNodeCreated = 1,
  kNodeDeleted = 2,
  kNodeDataChanged = 3,
  kNodeChildrenChanged = 4,
  kDataWatchRemoved = 5,
  kChildWatchRemoved = 6,
  kPersistentWatchRemoved = 7,
};

enum class KeeperState : int32_t {
  kUnknown = -1,
  kDisconnected = 0,
  kNoSyncConnected = 1,
  kSyncConnected = 3,
  kAuthFailed = 4,
  kConnectedReadOnly = 5,
  kSaslAuthenticated = 6,
  kExpired = -112,
  kClosed = 7,
};

// CreateMode flag values sent in CreateRequest.flags.
enum class CreateMode : int32_t {
  kPersistent = 0,
  kEphemeral = 1,
  kPersistentSequential = 2,
  kEphemeralSequential = 3,
  kContainer = 4,
  kPersistentWithTtl = 5,
  kPersistentSequentialWithTtl = 6,
};

// ZooDefs.Perms bits.
namespace perms {
inline constexpr int32_t kRead = 1;
inline constexpr int32_t kWrite = 2;
inline constexpr int32_t kCreate = 4;
inline constexpr int32_t kDelete = 8;
inline constexpr int32_t kAdmin = 16;
inline constexpr int32_t kAll = 31;
// ZKUtil.getPermString: the granted bits as letters in "cdrwa" order (what
// zkCli prints and the audit log writes).
std::string Letters(int32_t perms);
}  // namespace perms

// AddWatchMode.
enum class AddWatchMode : int32_t { kPersistent = 0, kPersistentRecursive = 1 };

// Watcher.WatcherType for checkWatches / removeWatches (4 and 5 since 3.9).
enum class WatcherType : int32_t { kChildren = 1, kData = 2, kAny = 3, kPersistent = 4, kPersistentRecursive = 5 };

// Reserved xids.
namespace xid {
inline constexpr int32_t kNotification = -1;
inline constexpr int32_t kPing = -2;
inline constexpr int32_t kAuth = -4;
inline constexpr int32_t kSetWatches = -8;
}  // namespace xid

// Default jute.maxbuffer: 0xfffff bytes (1 MiB - 1), as ZooKeeper.
inline constexpr int32_t kDefaultMaxBuffer = 0xfffff;

}  // namespace aviary::proto
