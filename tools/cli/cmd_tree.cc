// ls, deleteall, getAllChildrenNumber, getEphemerals: commands over a
// znode's children or subtree (zkCli's LsCommand, DeleteAllCommand, ...).
#include <algorithm>
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

std::string Join(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); i++) s += (i ? ", " : "") + v[i];
  return s + "]";
}

// ZKUtil.visitSubTreeDFS: the root, then each node's sorted children, then
// their subtrees in turn. A node gone meanwhile is skipped.
Err VisitDfs(Context& ctx, const std::string& path, bool watch, std::vector<std::string>* out) {
  auto r = Call(ctx, OpCode::kGetChildren, proto::GetChildrenRequest{path, watch});
  if (r.err == Err::kNoNode) return Err::kOk;
  if (r.err != Err::kOk) return r.err;
  auto children = std::get<proto::GetChildrenResponse>(r.body).children;
  std::sort(children.begin(), children.end());
  for (const auto& c : children) out->push_back(ChildPath(path, c));
  for (const auto& c : children) {
    if (Err e = VisitDfs(ctx, ChildPath(path, c), watch, out); e != Err::kOk) return e;
  }
  return Err::kOk;
}

int LsRecursive(Context& ctx, const std::string& path, bool watch) {
  auto r = Call(ctx, OpCode::kGetData, proto::GetDataRequest{path, watch});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  std::vector<std::string> nodes{path};
  if (Err e = VisitDfs(ctx, path, watch, &nodes); e != Err::kOk) return FailErr(ctx, e, path);
  if (ctx.json) {
    EmitJson({{"path", path}, {"nodes", nodes}});
  } else {
    for (const auto& n : nodes) std::printf("%s\n", n.c_str());
  }
  return kOk;
}

int Ls(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "swR?", &p, &error)) return Fail(ctx, error);
  if (p.pos.size() < 2) return Usage(ctx, "ls");
  const std::string& path = p.pos[1];
  if (std::string why = client::ValidatePath(path); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  if (p.has('R')) return LsRecursive(ctx, path, p.has('w'));
  auto r = Call(ctx, OpCode::kGetChildren2, proto::GetChildrenRequest{path, p.has('w')});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  auto& g = std::get<proto::GetChildren2Response>(r.body);
  std::sort(g.children.begin(), g.children.end());
  if (ctx.json) {
    EmitJson({{"path", path}, {"children", g.children}, {"stat", StatJson(g.stat)}});
    return kOk;
  }
  std::printf("%s\n", Join(g.children).c_str());
  if (p.has('s')) PrintStat(g.stat);
  return kOk;
}

// ZKUtil.deleteRecursive: deepest first, in multi batches of batch_size.
int DeleteAll(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "b:", &p, &error) || p.pos.size() < 2)
    return error.empty() ? Usage(ctx, "deleteall") : Fail(ctx, error);
  int64_t batch = 1000;
  if (p.has('b') && !ParseInt(p.opts['b'], &batch)) return Fail(ctx, "-b argument must be an int value");
  const std::string& path = p.pos[1];
  if (std::string why = client::ValidatePath(path); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  std::vector<std::string> tree;
  if (Err e = ListSubtreeBfs(ctx, path, &tree); e != Err::kOk) return FailErr(ctx, e, path);
  bool ok = true;
  proto::MultiRequest multi;
  for (size_t i = tree.size(); i-- > 0 && ok;) {
    if (batch <= 0) {
      auto r = Call(ctx, OpCode::kDelete, proto::DeleteRequest{tree[i], -1});
      if (r.err != Err::kOk) return FailErr(ctx, r.err, tree[i]);
      continue;
    }
    multi.ops.push_back({OpCode::kDelete, proto::DeleteRequest{tree[i], -1}});
    if (static_cast<int64_t>(multi.ops.size()) == batch || i == 0) {
      ok = MultiError(Call(ctx, OpCode::kMulti, multi)) == Err::kOk;
      multi.ops.clear();
    }
  }
  if (!ok) return Fail(ctx, "Failed to delete some node(s) in the subtree!");
  if (ctx.json) EmitJson({{"path", path}, {"deleted", tree.size()}});
  return kOk;
}

int AllChildrenNumber(Context& ctx, const Args& args) {
  if (args.size() < 2) return Usage(ctx, "getAllChildrenNumber");
  const std::string& path = args[1];
  if (std::string why = client::ValidatePath(path); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  auto r = Call(ctx, OpCode::kGetAllChildrenNumber, proto::GetAllChildrenNumberRequest{path});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  int32_t n = std::get<proto::GetAllChildrenNumberResponse>(r.body).totalNumber;
  if (ctx.json) {
    EmitJson({{"path", path}, {"count", n}});
  } else {
    std::printf("%d\n", n);
  }
  return kOk;
}

int Ephemerals(Context& ctx, const Args& args) {
  std::string path = args.size() >= 2 ? args[1] : "/";
  if (std::string why = client::ValidatePath(path); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  auto r = Call(ctx, OpCode::kGetEphemerals, proto::GetEphemeralsRequest{path});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  const auto& e = std::get<proto::GetEphemeralsResponse>(r.body).ephemerals;
  if (ctx.json) {
    EmitJson({{"path", path}, {"ephemerals", e}});
  } else {
    std::printf("%s\n", Join(e).c_str());
  }
  return kOk;
}

}  // namespace

void AddTreeCommands(std::vector<Command>* out) {
  out->push_back({"ls", "[-s] [-w] [-R] path", Ls});
  out->push_back({"deleteall", "path [-b batch size]", DeleteAll});
  out->push_back({"getAllChildrenNumber", "path", AllChildrenNumber});
  out->push_back({"getEphemerals", "path", Ephemerals});
}

}  // namespace aviary::cli
