#include "proto/codes.h"

namespace aviary::proto {

std::string_view ErrName(Err e) {
  switch (e) {
    case Err::kOk:
      return "OK";
    case Err::kSystemError:
      return "SYSTEMERROR";
    case Err::kRuntimeInconsistency:
      return "RUNTIMEINCONSISTENCY";
    case Err::kDataInconsistency:
      return "DATAINCONSISTENCY";
    case Err::kConnectionLoss:
      return "CONNECTIONLOSS";
    case Err::kMarshallingError:
      return "MARSHALLINGERROR";
    case Err::kUnimplemented:
      return "UNIMPLEMENTED";
    case Err::kOperationTimeout:
      return "OPERATIONTIMEOUT";
    case Err::kBadArguments:
      return "BADARGUMENTS";
    case Err::kUnknownSession:
      return "UNKNOWNSESSION";
    case Err::kNewConfigNoQuorum:
      return "NEWCONFIGNOQUORUM";
    case Err::kReconfigInProgress:
      return "RECONFIGINPROGRESS";
    case Err::kApiError:
      return "APIERROR";
    case Err::kNoNode:
      return "NONODE";
    case Err::kNoAuth:
      return "NOAUTH";
    case Err::kBadVersion:
      return "BADVERSION";
    case Err::kNoChildrenForEphemerals:
      return "NOCHILDRENFOREPHEMERALS";
    case Err::kNodeExists:
      return "NODEEXISTS";
    case Err::kNotEmpty:
      return "NOTEMPTY";
    case Err::kSessionExpired:
      return "SESSIONEXPIRED";
    case Err::kInvalidCallback:
      return "INVALIDCALLBACK";
    case Err::kInvalidAcl:
      return "INVALIDACL";
    case Err::kAuthFailed:
      return "AUTHFAILED";
    case Err::kSessionMoved:
      return "SESSIONMOVED";
    case Err::kNotReadOnly:
      return "NOTREADONLY";
    case Err::kEphemeralOnLocalSession:
      return "EPHEMERALONLOCALSESSION";
    case Err::kNoWatcher:
      return "NOWATCHER";
    case Err::kRequestTimeout:
      return "REQUESTTIMEOUT";
    case Err::kReconfigDisabled:
      return "RECONFIGDISABLED";
    case Err::kSessionClosedRequireSaslAuth:
      return "SESSIONCLOSEDREQUIRESASLAUTH";
    case Err::kQuotaExceeded:
      return "QUOTAEXCEEDED";
    case Err::kThrottledOp:
      return "THROTTLEDOP";
  }
  return "UNKNOWN";
}

// ZooDefs.OpCode field names.
std::string_view OpName(OpCode op) {
  switch (op) {
    case OpCode::kNotification:
      return "notification";
    case OpCode::kCreate:
      return "create";
    case OpCode::kDelete:
      return "delete";
    case OpCode::kExists:
      return "exists";
    case OpCode::kGetData:
      return "getData";
    case OpCode::kSetData:
      return "setData";
    case OpCode::kGetAcl:
      return "getACL";
    case OpCode::kSetAcl:
      return "setACL";
    case OpCode::kGetChildren:
      return "getChildren";
    case OpCode::kSync:
      return "sync";
    case OpCode::kPing:
      return "ping";
    case OpCode::kGetChildren2:
      return "getChildren2";
    case OpCode::kCheck:
      return "check";
    case OpCode::kMulti:
      return "multi";
    case OpCode::kCreate2:
      return "create2";
    case OpCode::kReconfig:
      return "reconfig";
    case OpCode::kCheckWatches:
      return "checkWatches";
    case OpCode::kRemoveWatches:
      return "removeWatches";
    case OpCode::kCreateContainer:
      return "createContainer";
    case OpCode::kDeleteContainer:
      return "deleteContainer";
    case OpCode::kCreateTtl:
      return "createTTL";
    case OpCode::kMultiRead:
      return "multiRead";
    case OpCode::kAuth:
      return "auth";
    case OpCode::kSetWatches:
      return "setWatches";
    case OpCode::kSasl:
      return "sasl";
    case OpCode::kGetEphemerals:
      return "getEphemerals";
    case OpCode::kGetAllChildrenNumber:
      return "getAllChildrenNumber";
    case OpCode::kSetWatches2:
      return "setWatches2";
    case OpCode::kAddWatch:
      return "addWatch";
    case OpCode::kWhoAmI:
      return "whoAmI";
    case OpCode::kCreateSession:
      return "createSession";
    case OpCode::kCloseSession:
      return "closeSession";
    case OpCode::kError:
      return "error";
  }
  return "unknown";
}

std::string perms::Letters(int32_t p) {
  std::string out;
  if (p & kCreate) out += 'c';
  if (p & kDelete) out += 'd';
  if (p & kRead) out += 'r';
  if (p & kWrite) out += 'w';
  if (p & kAdmin) out += 'a';
  return out;
}

}  // namespace aviary::proto
