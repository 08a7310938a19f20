// getAcl, setAcl, addauth, whoami: ACLs and authentication, as zkCli's
// GetAclCommand, SetAclCommand, AddAuthCommand and WhoAmICommand.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "client/connect_string.h"
#include "json_util.h"

namespace aviary::cli {

using nlohmann::json;
using proto::Err;
using proto::OpCode;

namespace {

// jute's CSV form of a string (Utils.toCSVString), as Id.toString() prints.
std::string Csv(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    switch (c) {
      case '\0':
        out += "%00";
        break;
      case '\n':
        out += "%0A";
        break;
      case '\r':
        out += "%0D";
        break;
      case ',':
        out += "%2C";
        break;
      case '}':
        out += "%7D";
        break;
      case '%':
        out += "%25";
        break;
      default:
        out += c;
    }
  }
  return out;
}

int GetAcl(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "s", &p, &error) || p.pos.size() < 2)
    return error.empty() ? Usage(ctx, "getAcl") : Fail(ctx, error);
  const std::string& path = p.pos[1];
  if (std::string why = client::ValidatePath(path); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  auto r = Call(ctx, OpCode::kGetAcl, proto::GetAclRequest{path});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  const auto& g = std::get<proto::GetAclResponse>(r.body);
  if (ctx.json) {
    EmitJson({{"path", path}, {"acl", AclJson(g.acl)}, {"stat", StatJson(g.stat)}});
    return kOk;
  }
  // Id.toString() is a CSV record ending in a newline, hence the odd layout.
  for (const auto& a : g.acl) {
    std::printf("%s,%s\n: %s\n", Csv(a.id.scheme).c_str(), Csv(a.id.id).c_str(),
                proto::perms::Letters(a.perms).c_str());
  }
  if (p.has('s')) PrintStat(g.stat);
  return kOk;
}

// setAcl -R: every node of the subtree, failures printed and skipped (as zkCli).
int SetAclRecursive(Context& ctx, const std::string& path, const proto::AclList& acl, int32_t version) {
  auto r = Call(ctx, OpCode::kGetData, proto::GetDataRequest{path, false});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  std::vector<std::string> tree;
  if (Err e = ListSubtreeBfs(ctx, path, &tree); e != Err::kOk) return FailErr(ctx, e, path);
  json failed = json::array();
  for (const auto& node : tree) {
    auto s = Call(ctx, OpCode::kSetAcl, proto::SetAclRequest{node, acl, version});
    if (s.err == Err::kOk) continue;
    failed.push_back({{"path", node}, {"error", std::string(proto::ErrName(s.err))}});
    if (!ctx.json) std::printf("%s", ErrMessage(s.err, node).c_str());
  }
  if (ctx.json) EmitJson({{"path", path}, {"nodes", tree.size()}, {"failed", failed}});
  return failed.empty() ? kOk : kFailed;
}

int SetAcl(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "sv:R", &p, &error) || p.pos.size() < 3)
    return error.empty() ? Usage(ctx, "setAcl") : Fail(ctx, error);
  const std::string& path = p.pos[1];
  proto::AclList acl = ParseAcl(p.pos[2]);
  int64_t v = -1;
  if (p.has('v') && !ParseInt(p.opts['v'], &v)) return Fail(ctx, "For input string: \"" + p.opts['v'] + "\"");
  if (std::string why = client::ValidatePath(path); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  if (p.has('R')) return SetAclRecursive(ctx, path, acl, static_cast<int32_t>(v));
  auto r = Call(ctx, OpCode::kSetAcl, proto::SetAclRequest{path, acl, static_cast<int32_t>(v)});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  const auto& st = std::get<proto::StatResponse>(r.body).stat;
  if (ctx.json) {
    EmitJson({{"path", path}, {"acl", AclJson(acl)}, {"stat", StatJson(st)}});
  } else if (p.has('s')) {
    PrintStat(st);
  }
  return kOk;
}

int AddAuth(Context& ctx, const Args& args) {
  if (args.size() < 2) return Usage(ctx, "addauth");
  if (ctx.zk == nullptr) return FailErr(ctx, Err::kConnectionLoss, "");
  Err e = ctx.zk->AddAuth(args[1], args.size() >= 3 ? args[2] : "");
  if (e != Err::kOk) return FailErr(ctx, e, "");
  if (ctx.json) EmitJson({{"scheme", args[1]}});
  return kOk;
}

int WhoAmI(Context& ctx, const Args&) {
  auto r = Call(ctx, OpCode::kWhoAmI, proto::Empty{});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, "");
  const auto& infos = std::get<proto::WhoAmIResponse>(r.body).clientInfo;
  if (ctx.json) {
    json arr = json::array();
    for (const auto& i : infos) arr.push_back({{"scheme", i.authScheme}, {"user", i.user}});
    EmitJson({{"identities", arr}});
    return kOk;
  }
  std::printf("Auth scheme: User\n");
  for (const auto& i : infos) std::printf("%s: %s\n", i.authScheme.c_str(), i.user.c_str());
  return kOk;
}

}  // namespace

void AddAclCommands(std::vector<Command>* out) {
  out->push_back({"getAcl", "[-s] path", GetAcl});
  out->push_back({"setAcl", "[-s] [-v version] [-R] path acl", SetAcl});
  out->push_back({"addauth", "scheme auth", AddAuth});
  out->push_back({"whoami", "", WhoAmI});
}

}  // namespace aviary::cli
