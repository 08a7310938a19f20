// create, get, set, delete, stat: one znode at a time, as zkCli's
// CreateCommand, GetCommand, SetCommand, DeleteCommand and StatCommand.
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

constexpr int64_t kMaxTtlMs = 0xFFFFFFFFFFLL;  // EphemeralType.TTL's bound

// A client-side path check; prints zkCli's message and returns false.
bool CheckPath(Context& ctx, const std::string& path, bool sequential = false) {
  std::string why = client::ValidatePath(path, sequential);
  if (why.empty()) return true;
  Fail(ctx, why, Err::kBadArguments);
  return false;
}

// Netty's ByteBufUtil.prettyHexDump, which zkCli's `get -x` prints.
std::string HexDump(const std::string& data) {
  if (data.empty()) return "";
  std::string out =
      "         +-------------------------------------------------+\n"
      "         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n"
      "+--------+-------------------------------------------------+----------------+";
  for (size_t row = 0; row < data.size(); row += 16) {
    char offset[24], byte[8];
    std::snprintf(offset, sizeof(offset), "%08zx", row);
    std::string hex, text;
    for (size_t i = row; i < row + 16; i++) {
      if (i >= data.size()) {
        hex += "   ";
        text += ' ';
        continue;
      }
      auto c = static_cast<unsigned char>(data[i]);
      std::snprintf(byte, sizeof(byte), " %02x", c);
      hex += byte;
      text += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.';
    }
    out += "\n|" + std::string(offset) + "|" + hex + " |" + text + "|";
  }
  return out + "\n+--------+-------------------------------------------------+----------------+";
}

int32_t CreateFlags(const Parsed& p) {
  bool e = p.has('e'), s = p.has('s'), t = p.has('t');
  using proto::CreateMode;
  CreateMode m = e && s       ? CreateMode::kEphemeralSequential
                 : e          ? CreateMode::kEphemeral
                 : s          ? (t ? CreateMode::kPersistentSequentialWithTtl : CreateMode::kPersistentSequential)
                 : p.has('c') ? CreateMode::kContainer
                 : t          ? CreateMode::kPersistentWithTtl
                              : CreateMode::kPersistent;
  return static_cast<int32_t>(m);
}

int Create(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "esct:", &p, &error) || p.pos.size() < 2)
    return Fail(ctx, error.empty() ? "create [-s] [-e] [-c] [-t ttl] path [data] [acl]" : error);
  if (p.has('c') && (p.has('e') || p.has('s'))) {
    return Fail(ctx, "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.");
  }
  int64_t ttl = 0;
  if (p.has('t') && !ParseInt(p.opts['t'], &ttl)) return Fail(ctx, "-t argument must be a long value");
  if (p.has('t') && p.has('e')) return Fail(ctx, "TTLs cannot be used with Ephemeral znodes");
  if (p.has('t') && p.has('c')) return Fail(ctx, "TTLs cannot be used with Container znodes");
  if (p.has('t') && (ttl <= 0 || ttl > kMaxTtlMs)) {
    return Fail(ctx, "ttl must be positive and cannot be larger than: " + std::to_string(kMaxTtlMs));
  }
  const std::string& path = p.pos[1];
  if (!CheckPath(ctx, path, p.has('s'))) return kFailed;
  proto::CreateRequest req;
  req.path = path;
  req.data_null = p.pos.size() <= 2;
  if (!req.data_null) req.data = p.pos[2];
  req.acl = p.pos.size() > 3 ? ParseAcl(p.pos[3]) : OpenAcl();
  req.flags = CreateFlags(p);
  req.ttl = p.has('t') ? ttl : -1;
  OpCode op = p.has('t') ? OpCode::kCreateTtl : p.has('c') ? OpCode::kCreateContainer : OpCode::kCreate2;
  auto r = Call(ctx, op, req);
  if (r.err == Err::kEphemeralOnLocalSession)
    std::fprintf(stderr, "Unable to create ephemeral node on a local session\n");
  if (r.err == Err::kInvalidAcl) std::fprintf(stderr, "KeeperErrorCode = InvalidACL for %s\n", path.c_str());
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  const auto& c2 = std::get<proto::Create2Response>(r.body);
  if (ctx.json) {
    EmitJson({{"path", c2.path}, {"stat", StatJson(c2.stat)}});
  } else {
    std::fprintf(stderr, "Created %s\n", c2.path.c_str());
  }
  return kOk;
}

int Get(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "swbx", &p, &error) || p.pos.size() < 2)
    return error.empty() ? Usage(ctx, "get") : Fail(ctx, error);
  const std::string& path = p.pos[1];
  if (!CheckPath(ctx, path)) return kFailed;
  auto r = Call(ctx, OpCode::kGetData, proto::GetDataRequest{path, p.has('w')});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  const auto& g = std::get<proto::GetDataResponse>(r.body);
  if (ctx.json) {
    json doc = {{"path", path}, {"stat", StatJson(g.stat)}};
    AddData(&doc, g.data, g.data_null);
    EmitJson(doc);
    return kOk;
  }
  std::string text = g.data_null ? "null" : p.has('b') ? Base64Encode(g.data) : p.has('x') ? HexDump(g.data) : g.data;
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  if (p.has('s')) PrintStat(g.stat);
  return kOk;
}

int Set(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "sv:b", &p, &error) || p.pos.size() < 3)
    return error.empty() ? Usage(ctx, "set") : Fail(ctx, error);
  proto::SetDataRequest req{p.pos[1], p.pos[2], -1, false};
  if (p.has('b') && !Base64Decode(p.pos[2], &req.data)) return Fail(ctx, "Illegal base64 character in data");
  int64_t v = -1;
  if (p.has('v') && !ParseInt(p.opts['v'], &v)) return Fail(ctx, "For input string: \"" + p.opts['v'] + "\"");
  req.version = static_cast<int32_t>(v);
  if (!CheckPath(ctx, req.path)) return kFailed;
  auto r = Call(ctx, OpCode::kSetData, req);
  if (r.err != Err::kOk) return FailErr(ctx, r.err, req.path);
  const auto& st = std::get<proto::StatResponse>(r.body).stat;
  if (ctx.json) {
    EmitJson({{"path", req.path}, {"stat", StatJson(st)}});
  } else if (p.has('s')) {
    PrintStat(st);
  }
  return kOk;
}

int Delete(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "v:", &p, &error) || p.pos.size() < 2)
    return error.empty() ? Usage(ctx, "delete") : Fail(ctx, error);
  int64_t v = -1;
  if (p.has('v') && !ParseInt(p.opts['v'], &v)) return Fail(ctx, "For input string: \"" + p.opts['v'] + "\"");
  const std::string& path = p.pos[1];
  if (!CheckPath(ctx, path)) return kFailed;
  auto r = Call(ctx, OpCode::kDelete, proto::DeleteRequest{path, static_cast<int32_t>(v)});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  if (ctx.json) EmitJson({{"path", path}});
  return kOk;
}

int StatCmd(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "w", &p, &error) || p.pos.size() < 2)
    return error.empty() ? Usage(ctx, "stat") : Fail(ctx, error);
  const std::string& path = p.pos[1];
  if (!CheckPath(ctx, path)) return kFailed;
  auto r = Call(ctx, OpCode::kExists, proto::ExistsRequest{path, p.has('w')});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  const auto& st = std::get<proto::StatResponse>(r.body).stat;
  if (ctx.json) {
    EmitJson({{"path", path}, {"stat", StatJson(st)}});
  } else {
    PrintStat(st);
  }
  return kOk;
}

}  // namespace

void AddNodeCommands(std::vector<Command>* out) {
  out->push_back({"create", "[-s] [-e] [-c] [-t ttl] path [data] [acl]", Create});
  out->push_back({"get", "[-s] [-w] [-b] [-x] path", Get});
  out->push_back({"set", "[-s] [-v version] [-b] path data", Set});
  out->push_back({"delete", "[-v version] path", Delete});
  out->push_back({"stat", "[-w] path", StatCmd});
}

}  // namespace aviary::cli
