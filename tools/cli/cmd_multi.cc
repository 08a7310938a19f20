// `multi FILE`: several writes applied atomically with one multi request.
// File format (docs/CLI.md): one op per line, blank lines and '#' comments
// skipped; create/set/delete take zkCli's flags, plus check -v VERSION path.
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

struct Line {
  int number = 0;
  std::string op, path;
};

bool ParseCreate(const Parsed& p, proto::MultiOp* op, std::string* error) {
  if (p.pos.size() < 2) return *error = "create needs a path", false;
  proto::CreateRequest c;
  c.path = p.pos[1];
  c.data_null = p.pos.size() <= 2;
  if (!c.data_null) c.data = p.pos[2];
  c.acl = p.pos.size() > 3 ? ParseAcl(p.pos[3]) : OpenAcl();
  bool e = p.has('e'), s = p.has('s'), t = p.has('t');
  int64_t ttl = -1;
  if (t && (!ParseInt(p.opts.at('t'), &ttl) || ttl <= 0 || e || p.has('c'))) return *error = "bad -t", false;
  if (p.has('c') && (e || s)) return *error = "-c cannot be combined with -s or -e", false;
  c.flags = (e ? 1 : 0) | (s ? 2 : 0);
  if (p.has('c')) c.flags = static_cast<int32_t>(proto::CreateMode::kContainer);
  if (t)
    c.flags = static_cast<int32_t>(s ? proto::CreateMode::kPersistentSequentialWithTtl
                                     : proto::CreateMode::kPersistentWithTtl);
  c.ttl = ttl;
  op->type = t ? OpCode::kCreateTtl : p.has('c') ? OpCode::kCreateContainer : OpCode::kCreate2;
  op->body = c;
  return true;
}

// One line to one op; false with *error for anything malformed.
bool ParseLine(const Args& args, proto::MultiOp* op, std::string* error) {
  Parsed p;
  const std::string& name = args[0];
  const char* spec = name == "create" ? "esct:" : name == "set" ? "v:b" : "v:";
  if (!ParseOpts(args, spec, &p, error)) return false;
  int64_t version = -1;
  if (p.has('v') && !ParseInt(p.opts['v'], &version)) return *error = "bad version", false;
  if (name == "create") return ParseCreate(p, op, error);
  if (p.pos.size() < 2) return *error = name + " needs a path", false;
  if (name == "set") {
    if (p.pos.size() < 3) return *error = "set needs path and data", false;
    proto::SetDataRequest s{p.pos[1], p.pos[2], static_cast<int32_t>(version), false};
    if (p.has('b') && !Base64Decode(p.pos[2], &s.data)) return *error = "bad base64 data", false;
    *op = {OpCode::kSetData, s};
  } else if (name == "delete") {
    *op = {OpCode::kDelete, proto::DeleteRequest{p.pos[1], static_cast<int32_t>(version)}};
  } else if (name == "check") {
    if (!p.has('v')) return *error = "check needs -v version", false;
    *op = {OpCode::kCheck, proto::CheckVersionRequest{p.pos[1], static_cast<int32_t>(version)}};
  } else {
    return *error = "unknown op '" + name + "' (create, set, delete, check)", false;
  }
  return true;
}

bool ReadOps(Context& ctx, const std::string& file, proto::MultiRequest* req, std::vector<Line>* lines) {
  std::ifstream in(file);
  if (!in) return Fail(ctx, "cannot read " + file) == kOk;
  std::string text;
  for (int n = 1; std::getline(in, text); n++) {
    Args args = Tokenize(text);
    if (args.empty() || args[0][0] == '#') continue;
    proto::MultiOp op;
    std::string error;
    if (!ParseLine(args, &op, &error)) return Fail(ctx, file + ":" + std::to_string(n) + ": " + error) == kOk;
    std::string path = args.size() > 1 ? std::visit([](const auto& b) { return b.path; }, op.body) : "";
    if (std::string why = client::ValidatePath(path, args[0] == "create"); !why.empty()) {
      return Fail(ctx, file + ":" + std::to_string(n) + ": " + why) == kOk;
    }
    req->ops.push_back(op);
    lines->push_back({n, args[0], path});
  }
  if (req->ops.empty()) return Fail(ctx, file + ": no operations") == kOk;
  return true;
}

int Multi(Context& ctx, const Args& args) {
  if (args.size() < 2) return Usage(ctx, "multi");
  proto::MultiRequest req;
  std::vector<Line> lines;
  if (!ReadOps(ctx, args[1], &req, &lines)) return kFailed;
  auto r = Call(ctx, OpCode::kMulti, req);
  const auto* mr = std::get_if<proto::MultiResponse>(&r.body);
  if (mr == nullptr || mr->results.size() != lines.size()) return FailErr(ctx, r.err, "");
  size_t failed = 0;
  Err err = MultiError(r, &failed);
  json results = json::array();
  for (size_t i = 0; i < lines.size(); i++) {
    const auto& res = mr->results[i];
    bool ok = res.type != OpCode::kError;
    auto e = static_cast<Err>(res.err);
    std::string status = ok ? "OK" : e == Err::kOk ? "ROLLED_BACK" : std::string(proto::ErrName(e));
    json one = {{"op", lines[i].op}, {"path", lines[i].path}, {"ok", ok}};
    if (!ok) one["error"] = status;
    if (ok && lines[i].op == "create") one["created"] = res.path;
    if (ok && (res.type == OpCode::kCreate2 || res.type == OpCode::kSetData)) one["stat"] = StatJson(res.stat);
    if (ok && lines[i].op == "create") status += " " + res.path;
    if (!ctx.json) std::printf("%zu %s %s %s\n", i + 1, lines[i].op.c_str(), lines[i].path.c_str(), status.c_str());
    results.push_back(one);
  }
  if (err == Err::kOk) {
    if (ctx.json) EmitJson({{"results", results}});
    return kOk;
  }
  std::string msg = "multi failed at line " + std::to_string(lines[failed].number) + " (" + lines[failed].op + " " +
                    lines[failed].path + "): " + ErrMessage(err, lines[failed].path) + "; nothing was applied";
  std::fprintf(stderr, "%s\n", msg.c_str());
  if (ctx.json) {
    EmitJson({{"ok", false},
              {"error", std::string(proto::ErrName(err))},
              {"code", static_cast<int>(err)},
              {"message", msg},
              {"results", results}});
  }
  return kFailed;
}

}  // namespace

void AddBulkCommands(std::vector<Command>* out) {
  out->push_back({"multi", "file", Multi});
  out->push_back({"export", "[--utf8] path [file]", ExportCmd});
  out->push_back({"import", "[--force] file [path]", ImportCmd});
}

}  // namespace aviary::cli
