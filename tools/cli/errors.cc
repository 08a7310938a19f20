// Error reporting of the CLI: zkCli's messages (CliWrapperException,
// KeeperException.getMessage), failures on stderr and in --json, and the
// outcome of a multi.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "json_util.h"

namespace aviary::cli {

using proto::Err;

proto::Err MultiError(const client::Result& r, size_t* index) {
  const auto* mr = std::get_if<proto::MultiResponse>(&r.body);
  if (r.err != Err::kOk && mr == nullptr) return r.err;
  for (size_t i = 0; mr != nullptr && i < mr->results.size(); i++) {
    const auto& res = mr->results[i];
    auto e = static_cast<Err>(res.err);
    if (res.type == proto::OpCode::kError && e != Err::kOk && e != Err::kRuntimeInconsistency) {
      if (index) *index = i;
      return e;
    }
  }
  return r.err;
}

namespace {

std::string CodeMessage(Err e) {
  switch (e) {
    case Err::kOk:
      return "ok";
    case Err::kSystemError:
      return "SystemError";
    case Err::kRuntimeInconsistency:
      return "RuntimeInconsistency";
    case Err::kDataInconsistency:
      return "DataInconsistency";
    case Err::kConnectionLoss:
      return "ConnectionLoss";
    case Err::kMarshallingError:
      return "MarshallingError";
    case Err::kNewConfigNoQuorum:
      return "NewConfigNoQuorum";
    case Err::kReconfigInProgress:
      return "ReconfigInProgress";
    case Err::kUnimplemented:
      return "Unimplemented";
    case Err::kOperationTimeout:
      return "OperationTimeout";
    case Err::kBadArguments:
      return "BadArguments";
    case Err::kApiError:
      return "APIError";
    case Err::kNoNode:
      return "NoNode";
    case Err::kNoAuth:
      return "NoAuth";
    case Err::kBadVersion:
      return "BadVersion";
    case Err::kNoChildrenForEphemerals:
      return "NoChildrenForEphemerals";
    case Err::kNodeExists:
      return "NodeExists";
    case Err::kInvalidAcl:
      return "InvalidACL";
    case Err::kAuthFailed:
      return "AuthFailed";
    case Err::kNotEmpty:
      return "Directory not empty";
    case Err::kSessionExpired:
      return "Session expired";
    case Err::kInvalidCallback:
      return "Invalid callback";
    case Err::kSessionMoved:
      return "Session moved";
    case Err::kNotReadOnly:
      return "Not a read-only call";
    case Err::kEphemeralOnLocalSession:
      return "Ephemeral node on local session";
    case Err::kNoWatcher:
      return "No such watcher";
    case Err::kReconfigDisabled:
      return "Reconfig is disabled";
    case Err::kSessionClosedRequireSaslAuth:
      return "Session closed because client failed to authenticate";
    case Err::kQuotaExceeded:
      return "Quota has exceeded";
    case Err::kThrottledOp:
      return "Op throttled due to high load";
    default:
      return "Unknown error " + std::to_string(static_cast<int>(e));
  }
}

}  // namespace

std::string ErrMessage(Err err, const std::string& path) {
  switch (err) {
    case Err::kNoNode:
      return "Node does not exist: " + path;
    case Err::kNoChildrenForEphemerals:
      return "Ephemerals cannot have children: " + path;
    case Err::kNodeExists:
      return "Node already exists: " + path;
    case Err::kNotEmpty:
      return "Node not empty: " + path;
    case Err::kNotReadOnly:
      return "Not a read-only call: " + path;
    case Err::kInvalidAcl:
      return "Acl is not valid : " + path;
    case Err::kNoAuth:
      return "Insufficient permission : " + path;
    case Err::kBadArguments:
      return "Arguments are not valid : " + path;
    case Err::kBadVersion:
      return "version No is not valid : " + path;
    case Err::kQuotaExceeded:
      return "Quota has exceeded : " + path;
    default:
      return "KeeperErrorCode = " + CodeMessage(err) + (path.empty() ? "" : " for " + path);
  }
}

int Fail(Context& ctx, const std::string& message, Err err) {
  std::fprintf(stderr, "%s\n", message.c_str());
  if (ctx.json) {
    nlohmann::json doc = {{"ok", false}, {"message", message}};
    if (err != Err::kOk) {
      doc["error"] = std::string(proto::ErrName(err));
      doc["code"] = static_cast<int>(err);
    } else {
      doc["error"] = "CLI";
    }
    EmitJson(doc);
  }
  return kFailed;
}

int FailErr(Context& ctx, Err err, const std::string& path) { return Fail(ctx, ErrMessage(err, path), err); }

int Usage(Context& ctx, const std::string& name) {
  const Command* c = FindCommand(name);
  return Fail(ctx, c ? c->name + " " + c->usage : name);
}

}  // namespace aviary::cli
