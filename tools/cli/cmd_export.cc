// `export path [file]`: a subtree as one JSON document (format in
// docs/CLI.md): every node's relative path, data (base64, or utf-8 with
// --utf8 where valid) and ACL; ephemeral nodes are skipped, /zookeeper
// is skipped when exporting "/".
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "client/connect_string.h"
#include "json_util.h"

namespace aviary::cli {

using nlohmann::json;
using proto::Err;
using proto::OpCode;

namespace {

bool UnderSystem(const std::string& p) { return p == "/zookeeper" || p.rfind("/zookeeper/", 0) == 0; }

// Reads one node into *out; false (skip) for ephemerals and vanished nodes.
bool ExportNode(Context& ctx, const std::string& root, const std::string& path, bool utf8, json* out, Err* err) {
  auto d = Call(ctx, OpCode::kGetData, proto::GetDataRequest{path, false});
  auto a = d.err == Err::kOk ? Call(ctx, OpCode::kGetAcl, proto::GetAclRequest{path}) : d;
  if (a.err == Err::kNoNode) return false;
  if (a.err != Err::kOk) return *err = a.err, false;
  const auto& g = std::get<proto::GetDataResponse>(d.body);
  // Servers report 0 as the owner of containers and TTL nodes too, so
  // those are exported as persistent (docs/CLI.md); ephemerals are skipped.
  if (g.stat.ephemeralOwner != 0) return false;
  json n = {{"path", path == root ? "" : root == "/" ? path : path.substr(root.size())}, {"mode", "persistent"}};
  if (utf8 && IsUtf8(g.data)) {
    n["data"] = g.data;
  } else {
    n["data_base64"] = Base64Encode(g.data);
  }
  if (g.data_null) n["data_null"] = true;
  n["acl"] = AclJson(std::get<proto::GetAclResponse>(a.body).acl);
  *out = std::move(n);
  return true;
}

}  // namespace

int ExportCmd(Context& ctx, const Args& in) {
  Args args = in;
  bool utf8 = TakeFlag(&args, "--utf8") | TakeFlag(&args, "-u");
  if (args.size() < 2) return Usage(ctx, "export");
  const std::string& root = args[1];
  if (std::string why = client::ValidatePath(root); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  std::vector<std::string> tree;
  if (Err e = ListSubtreeBfs(ctx, root, &tree); e != Err::kOk) return FailErr(ctx, e, root);
  json nodes = json::array();
  for (const auto& path : tree) {
    if (root == "/" && UnderSystem(path)) continue;
    json n;
    Err err = Err::kOk;
    if (ExportNode(ctx, root, path, utf8, &n, &err)) nodes.push_back(std::move(n));
    if (err != Err::kOk) return FailErr(ctx, err, path);
  }
  json doc = {{"format", "aviary-export"}, {"version", 1}, {"root", root}, {"nodes", nodes}};
  std::string text = doc.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
  bool to_stdout = args.size() < 3 || args[2] == "-";
  if (to_stdout) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kOk;
  }
  std::ofstream out(args[2], std::ios::binary | std::ios::trunc);
  if (!(out << text)) return Fail(ctx, "cannot write " + args[2]);
  if (ctx.json) {
    EmitJson({{"path", root}, {"file", args[2]}, {"nodes", nodes.size()}});
  } else {
    std::fprintf(stderr, "Exported %zu nodes of %s to %s\n", nodes.size(), root.c_str(), args[2].c_str());
  }
  return kOk;
}

}  // namespace aviary::cli
