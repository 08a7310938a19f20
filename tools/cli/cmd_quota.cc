// setquota, listquota, delquota: zkCli's pure client logic over the
// /zookeeper/quota/<path>/zookeeper_limits and zookeeper_stats nodes
// (SetQuotaCommand, ListQuotaCommand, DelQuotaCommand, StatsTrack).
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli.h"
#include "client/connect_string.h"
#include "json_util.h"

namespace aviary::cli {

using nlohmann::json;
using proto::Err;
using proto::OpCode;

namespace {

const std::string kQuotaRoot = "/zookeeper/quota";
const std::string kLimitNode = "zookeeper_limits";
const std::string kStatNode = "zookeeper_stats";

// StatsTrack: "count=N,bytes=N" then, when other keys exist, "=;k=v..." sorted.
struct StatsTrack {
  std::map<std::string, int64_t> kv;
  int64_t get(const std::string& k) const {
    auto it = kv.find(k);
    return it == kv.end() ? -1 : it->second;
  }
  static StatsTrack Parse(const std::string& s) {
    StatsTrack t;
    size_t i = 0;
    while (i < s.size()) {
      size_t end = s.find_first_of(",;", i);
      if (end == std::string::npos) end = s.size();
      std::string pair = s.substr(i, end - i);
      i = end + 1;
      size_t eq = pair.find('=');
      if (pair.empty() || eq == std::string::npos) continue;
      std::string val = pair.substr(eq + 1);
      val = val.substr(0, val.find('='));
      int64_t v = -1;
      if (!val.empty() && !ParseInt(val, &v)) v = -1;
      t.kv[pair.substr(0, eq)] = v;
    }
    return t;
  }
  std::string ToString() const {
    std::string s = "count=" + std::to_string(get("count")) + ",bytes=" + std::to_string(get("bytes"));
    std::string extra;
    for (const auto& [k, v] : kv) {
      if (k != "count" && k != "bytes") extra += ";" + k + "=" + std::to_string(v);
    }
    return extra.empty() ? s : s + "=" + extra;
  }
  json ToJson() const {
    json j;
    for (const char* k : {"count", "bytes", "countHardLimit", "byteHardLimit"}) j[k] = get(k);
    return j;
  }
};

struct QuotaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

client::Result GetData(Context& ctx, const std::string& path) {
  return Call(ctx, OpCode::kGetData, proto::GetDataRequest{path, false});
}
bool Exists(Context& ctx, const std::string& path) {
  auto r = Call(ctx, OpCode::kExists, proto::ExistsRequest{path, false});
  if (r.err != Err::kOk && r.err != Err::kNoNode) throw QuotaError(ErrMessage(r.err, path));
  return r.err == Err::kOk;
}
std::vector<std::string> Children(Context& ctx, const std::string& path, bool* missing) {
  auto r = Call(ctx, OpCode::kGetChildren, proto::GetChildrenRequest{path, false});
  *missing = r.err == Err::kNoNode;
  if (r.err != Err::kOk && !*missing) throw QuotaError(ErrMessage(r.err, path));
  return *missing ? std::vector<std::string>{} : std::get<proto::GetChildrenResponse>(r.body).children;
}
void Must(const client::Result& r, const std::string& path, bool exists_ok = false) {
  if (r.err == Err::kOk || (exists_ok && r.err == Err::kNodeExists)) return;
  throw QuotaError(ErrMessage(r.err, path));
}
void CreateNode(Context& ctx, const std::string& path, const std::string& data, bool null_data) {
  proto::CreateRequest c{path, data, OpenAcl(), 0, -1, null_data};
  Must(Call(ctx, OpCode::kCreate, c), path, /*exists_ok=*/true);
}
StatsTrack ReadTrack(Context& ctx, const std::string& path) {
  auto r = GetData(ctx, path);
  Must(r, path);
  return StatsTrack::Parse(std::get<proto::GetDataResponse>(r.body).data);
}

// checkIfChildQuota + checkIfParentQuota.
void CheckNesting(Context& ctx, const std::string& path) {
  std::vector<std::string> stack{kQuotaRoot + path};
  bool missing = false;
  while (!stack.empty()) {
    std::string q = stack.back();
    stack.pop_back();
    for (const auto& c : Children(ctx, q, &missing)) {
      if (c == kLimitNode && q != kQuotaRoot + path) {
        throw QuotaError(path + " has a child " + q.substr(kQuotaRoot.size()) + " which has a quota");
      }
      if (c != kLimitNode && c != kStatNode) stack.push_back(q + "/" + c);
    }
  }
  std::string q = kQuotaRoot;
  for (size_t at = 1; (at = path.find('/', at)) != std::string::npos; at++) {
    q = kQuotaRoot + path.substr(0, at);
    auto children = Children(ctx, q, &missing);
    if (missing || children.empty()) return;
    for (const auto& c : children) {
      if (c == kLimitNode)
        throw QuotaError(path + " has a parent " + q.substr(kQuotaRoot.size()) + " which has a quota");
    }
  }
}

void WarnIfBelow(const StatsTrack& quota, const StatsTrack& stats) {
  int64_t c = stats.get("count"), b = stats.get("bytes");
  if ((quota.get("count") > -1 && quota.get("count") < c) ||
      (quota.get("countHardLimit") > -1 && quota.get("countHardLimit") < c)) {
    std::printf("[Warning]: the count quota you create is less than the existing count:%lld\n",
                static_cast<long long>(c));
  }
  if ((quota.get("bytes") > -1 && quota.get("bytes") < b) ||
      (quota.get("byteHardLimit") > -1 && quota.get("byteHardLimit") < b)) {
    std::printf("[Warning]: the bytes quota you create is less than the existing bytes:%lld\n",
                static_cast<long long>(b));
  }
}

StatsTrack CreateQuota(Context& ctx, const std::string& path, const StatsTrack& quota) {
  if (!Exists(ctx, path)) throw QuotaError(path + " does not exist.");
  CheckNesting(ctx, path);
  if (!Exists(ctx, kQuotaRoot)) CreateNode(ctx, kQuotaRoot, "", true);
  std::string q = kQuotaRoot;
  for (size_t at = 1; at <= path.size(); at++) {
    size_t end = path.find('/', at);
    q = kQuotaRoot + path.substr(0, end);
    if (!Exists(ctx, q)) CreateNode(ctx, q, "", true);
    if (end == std::string::npos) break;
    at = end;
  }
  std::string limits = q + "/" + kLimitNode, stats = q + "/" + kStatNode;
  StatsTrack now;
  if (!Exists(ctx, limits)) {
    CreateNode(ctx, limits, quota.ToString(), false);
    CreateNode(ctx, stats, "count=0,bytes=0", false);
    now = ReadTrack(ctx, limits);
    WarnIfBelow(now, ReadTrack(ctx, stats));
    return now;
  }
  now = ReadTrack(ctx, limits);
  for (const auto& [k, v] : quota.kv) {
    if (v > -1) now.kv[k] = v;
  }
  WarnIfBelow(now, ReadTrack(ctx, stats));
  Must(Call(ctx, OpCode::kSetData, proto::SetDataRequest{limits, now.ToString(), -1, false}), limits);
  return now;
}

bool QuotaValue(Context& ctx, const Parsed& p, StatsTrack* quota) {
  static const std::pair<char, const char*> kOpts[] = {
      {'n', "count"}, {'b', "bytes"}, {'N', "countHardLimit"}, {'B', "byteHardLimit"}};
  for (auto [opt, key] : kOpts) {
    if (!p.has(opt)) continue;
    int64_t v = 0;
    if (!ParseInt(p.opts.at(opt), &v))
      return Fail(ctx, "NumberFormatException happens when parsing the option value") == kOk;
    bool count = opt == 'n' || opt == 'N';
    if (count ? v <= 0 : v < 0) {
      return Fail(ctx, count ? "the num quota must be greater than zero"
                             : "the bytes quota must be greater than or equal to zero") == kOk;
    }
    quota->kv[key] = v;
  }
  return true;
}

int SetQuota(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "n:b:N:B:", &p, &error) || p.pos.size() < 2 || p.opts.empty()) {
    return error.empty() ? Usage(ctx, "setquota") : Fail(ctx, error);
  }
  if (p.opts.size() > 1)
    return Fail(ctx, "The option '" + std::string(1, p.opts.rbegin()->first) +
                         "' was specified but an option from this group has already been selected");
  const std::string& path = p.pos[1];
  if (path.rfind(kQuotaRoot, 0) == 0) return Fail(ctx, "cannot set a quota under the path: " + kQuotaRoot);
  if (std::string why = client::ValidatePath(path); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  StatsTrack quota;
  for (const char* k : {"count", "bytes", "countHardLimit", "byteHardLimit"}) quota.kv[k] = -1;
  if (!QuotaValue(ctx, p, &quota)) return kFailed;
  try {
    StatsTrack now = CreateQuota(ctx, path, quota);
    if (ctx.json) EmitJson({{"path", path}, {"quota", now.ToJson()}});
  } catch (const QuotaError& e) {
    return Fail(ctx, e.what());
  }
  return kOk;
}

int ListQuota(Context& ctx, const Args& args) {
  if (args.size() < 2) return Usage(ctx, "listquota");
  const std::string& path = args[1];
  std::string limits = kQuotaRoot + path + "/" + kLimitNode;
  if (!ctx.json) std::fprintf(stderr, "absolute path is %s\n", limits.c_str());
  auto l = GetData(ctx, limits);
  auto s = l.err == Err::kOk ? GetData(ctx, kQuotaRoot + path + "/" + kStatNode) : l;
  if (s.err == Err::kNoNode) return Fail(ctx, "quota for " + path + " does not exist.", Err::kNoNode);
  if (s.err != Err::kOk) return FailErr(ctx, s.err, path);
  auto quota = StatsTrack::Parse(std::get<proto::GetDataResponse>(l.body).data);
  auto stats = StatsTrack::Parse(std::get<proto::GetDataResponse>(s.body).data);
  if (ctx.json) {
    EmitJson({{"path", path}, {"quota", quota.ToJson()}, {"stat", stats.ToJson()}});
  } else {
    std::printf("Output quota for %s %s\n", path.c_str(), quota.ToString().c_str());
    std::printf("Output stat for %s %s\n", path.c_str(), stats.ToString().c_str());
  }
  return kOk;
}

void TrimQuotaDirs(Context& ctx, std::string path) {
  bool missing = false;
  while (path != kQuotaRoot && Children(ctx, path, &missing).empty() && !missing) {
    Must(Call(ctx, OpCode::kDelete, proto::DeleteRequest{path, -1}), path);
    path = path.substr(0, path.rfind('/'));
  }
}

int DelQuota(Context& ctx, const Args& args) {
  Parsed p;
  std::string error;
  if (!ParseOpts(args, "nbNB", &p, &error) || p.pos.size() < 2)
    return error.empty() ? Usage(ctx, "delquota") : Fail(ctx, error);
  const std::string& path = p.pos[1];
  std::string dir = kQuotaRoot + path, limits = dir + "/" + kLimitNode;
  try {
    if (!Exists(ctx, limits)) {
      if (ctx.json) return Fail(ctx, "Quota does not exist for " + path, Err::kNoNode);
      std::printf("Quota does not exist for %s\n", path.c_str());
      return kOk;
    }
    StatsTrack now = ReadTrack(ctx, limits);
    if (p.opts.empty()) {
      bool missing = false;
      for (const auto& c : Children(ctx, dir, &missing))
        Must(Call(ctx, OpCode::kDelete, proto::DeleteRequest{dir + "/" + c, -1}), dir + "/" + c);
      TrimQuotaDirs(ctx, dir);
    } else {
      for (auto [opt, key] :
           {std::pair{'n', "count"}, {'b', "bytes"}, {'N', "countHardLimit"}, {'B', "byteHardLimit"}}) {
        if (p.has(opt)) now.kv[key] = -1;
      }
      Must(Call(ctx, OpCode::kSetData, proto::SetDataRequest{limits, now.ToString(), -1, false}), limits);
    }
    if (ctx.json) EmitJson({{"path", path}, {"removed", p.opts.empty()}, {"quota", now.ToJson()}});
  } catch (const QuotaError& e) {
    return Fail(ctx, e.what());
  }
  return kOk;
}

}  // namespace

void AddQuotaCommands(std::vector<Command>* out) {
  out->push_back({"setquota", "-n|-b|-N|-B val path", SetQuota});
  out->push_back({"listquota", "path", ListQuota});
  out->push_back({"delquota", "[-n|-b|-N|-B] path", DelQuota});
}

}  // namespace aviary::cli
