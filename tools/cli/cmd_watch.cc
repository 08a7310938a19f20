// addWatch, removewatches, sync, config: watches and server-side state, as
// zkCli's AddWatchCommand, RemoveWatchesCommand, SyncCommand, GetConfigCommand.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli.h"
#include "client/connect_string.h"
#include "json_util.h"

namespace aviary::cli {

using nlohmann::json;
using proto::Err;
using proto::OpCode;

namespace {

int AddWatch(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "m:", &p, &error) || p.pos.size() != 2)
    return error.empty() ? Usage(ctx, "addWatch") : Fail(ctx, error);
  auto mode = proto::AddWatchMode::kPersistentRecursive;
  if (p.has('m')) {
    std::string m = p.opts['m'];
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::toupper(c); });
    if (m == "PERSISTENT") {
      mode = proto::AddWatchMode::kPersistent;
    } else if (m != "PERSISTENT_RECURSIVE") {
      return Usage(ctx, "addWatch");
    }
  }
  const std::string& path = p.pos[1];
  auto r = Call(ctx, OpCode::kAddWatch, proto::AddWatchRequest{path, static_cast<int32_t>(mode)});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  if (ctx.json) {
    bool rec = mode == proto::AddWatchMode::kPersistentRecursive;
    EmitJson({{"path", path}, {"mode", rec ? "PERSISTENT_RECURSIVE" : "PERSISTENT"}});
  }
  return kOk;
}

int RemoveWatches(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "cdal", &p, &error) || p.pos.size() < 2)
    return error.empty() ? Usage(ctx, "removewatches") : Fail(ctx, error);
  auto type = p.has('c')   ? proto::WatcherType::kChildren
              : p.has('d') ? proto::WatcherType::kData
                           : proto::WatcherType::kAny;
  const std::string& path = p.pos[1];
  if (std::string why = client::ValidatePath(path); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  auto r = Call(ctx, OpCode::kRemoveWatches, proto::RemoveWatchesRequest{path, static_cast<int32_t>(type)});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
  if (ctx.json) EmitJson({{"path", path}});
  return kOk;
}

int Sync(Context& ctx, const Args& args) {
  if (args.size() < 2) return Usage(ctx, "sync");
  const std::string& path = args[1];
  if (std::string why = client::ValidatePath(path); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  auto r = Call(ctx, OpCode::kSync, proto::SyncRequest{path});
  if (ctx.json) {
    if (r.err != Err::kOk) return FailErr(ctx, r.err, path);
    EmitJson({{"path", path}});
    return kOk;
  }
  if (r.err == Err::kOk) {
    std::printf("Sync is OK\n");
    return kOk;
  }
  std::printf("Sync has failed. rc=%d\n", static_cast<int>(r.err));
  return kFailed;
}

// ConfigUtils.getClientConfigStr: "<version hex> host:port,..." of the voting
// members that have a client address.
std::string ClientConfig(const std::string& config) {
  std::istringstream in(config);
  std::string line, version = "0", hosts;
  while (std::getline(in, line)) {
    if (line.rfind("version=", 0) == 0) version = line.substr(8);
    if (line.rfind("server.", 0) != 0) continue;
    size_t semi = line.find(';');
    std::string spec = line.substr(line.find('=') + 1, semi == std::string::npos ? 0 : semi - line.find('=') - 1);
    if (semi == std::string::npos || spec.find(":observer") != std::string::npos) continue;
    std::string client = line.substr(semi + 1);
    if (client.find(':') == std::string::npos) client = "0.0.0.0:" + client;
    hosts += (hosts.empty() ? "" : ",") + client;
  }
  return version + " " + hosts;
}

int Config(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "swc", &p, &error)) return Fail(ctx, error);
  auto r = Call(ctx, OpCode::kGetData, proto::GetDataRequest{"/zookeeper/config", p.has('w')});
  if (r.err != Err::kOk) return FailErr(ctx, r.err, "/zookeeper/config");
  const auto& g = std::get<proto::GetDataResponse>(r.body);
  std::string data = g.data_null ? "null" : g.data;
  if (ctx.json) {
    EmitJson({{"config", data}, {"client", ClientConfig(data)}, {"stat", StatJson(g.stat)}});
    return kOk;
  }
  std::printf("%s\n", p.has('c') ? ClientConfig(data).c_str() : data.c_str());
  if (p.has('s')) PrintStat(g.stat);
  return kOk;
}

}  // namespace

void AddWatchCommands(std::vector<Command>* out) {
  out->push_back({"addWatch",
                  "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is "
                  "PERSISTENT_RECURSIVE",
                  AddWatch});
  out->push_back({"removewatches", "path [-c|-d|-a] [-l]", RemoveWatches});
  out->push_back({"sync", "path", Sync});
  out->push_back({"config", "[-c] [-w] [-s]", Config});
}

}  // namespace aviary::cli
