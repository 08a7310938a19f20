// Shared CLI helpers: the command table, option parsing, tokenizing, stat
// printing, integers and subtree listing.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "cli.h"

namespace aviary::cli {

using proto::Err;

const std::vector<Command>& Commands() {
  static const std::vector<Command> all = [] {
    std::vector<Command> v;
    AddNodeCommands(&v);
    AddTreeCommands(&v);
    AddAclCommands(&v);
    AddWatchCommands(&v);
    AddQuotaCommands(&v);
    AddBulkCommands(&v);
    return v;
  }();
  return all;
}

const Command* FindCommand(const std::string& name) {
  for (const Command& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool ParseOpts(const Args& args, const char* spec, Parsed* out, std::string* error) {
  std::string sp(spec);
  bool ended = false;
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (i == 0 || ended || a.size() < 2 || a[0] != '-') {
      out->pos.push_back(a);
      continue;
    }
    if (a == "--") {
      ended = true;
      continue;
    }
    size_t at = sp.find(a[1]);
    if (at == std::string::npos || a[1] == ':') {
      *error = "Unrecognized option: " + a;
      return false;
    }
    bool takes_value = at + 1 < sp.size() && sp[at + 1] == ':';
    if (!takes_value) {
      if (a.size() != 2) {
        *error = "Unrecognized option: " + a;
        return false;
      }
      out->opts[a[1]] = "";
    } else if (a.size() > 2) {
      out->opts[a[1]] = a.substr(2);
    } else if (i + 1 < args.size()) {
      out->opts[a[1]] = args[++i];
    } else {
      *error = std::string("Missing argument for option: ") + a[1];
      return false;
    }
  }
  return true;
}

client::Result Call(Context& ctx, proto::OpCode op, proto::RequestBody body) {
  proto::Request req;
  req.header.type = static_cast<int32_t>(op);
  req.body = std::move(body);
  if (ctx.zk == nullptr) return client::Result{Err::kConnectionLoss, 0, {}};
  return ctx.zk->Call(std::move(req));
}

std::string JavaDate(int64_t ms) {
  time_t secs = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  struct tm tm {};
  localtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a %b %d %H:%M:%S %Z %Y", &tm);
  return buf;
}

void PrintStat(const proto::Stat& s) {
  auto hex = [](int64_t v) {
    char b[32];
    std::snprintf(b, sizeof(b), "0x%llx", static_cast<unsigned long long>(v));
    return std::string(b);
  };
  std::printf("cZxid = %s\nctime = %s\nmZxid = %s\nmtime = %s\npZxid = %s\n", hex(s.czxid).c_str(),
              JavaDate(s.ctime).c_str(), hex(s.mzxid).c_str(), JavaDate(s.mtime).c_str(), hex(s.pzxid).c_str());
  std::printf("cversion = %d\ndataVersion = %d\naclVersion = %d\nephemeralOwner = %s\n", s.cversion, s.version,
              s.aversion, hex(s.ephemeralOwner).c_str());
  std::printf("dataLength = %d\nnumChildren = %d\n", s.dataLength, s.numChildren);
}

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

std::string ChildPath(const std::string& parent, const std::string& child) {
  return (parent == "/" ? "" : parent) + "/" + child;
}

proto::Err ListSubtreeBfs(Context& ctx, const std::string& root, std::vector<std::string>* out) {
  out->assign(1, root);
  for (size_t i = 0; i < out->size(); i++) {
    std::string node = (*out)[i];
    auto r = Call(ctx, proto::OpCode::kGetChildren, proto::GetChildrenRequest{node, false});
    if (r.err != Err::kOk) return r.err;
    for (const auto& c : std::get<proto::GetChildrenResponse>(r.body).children) out->push_back(ChildPath(node, c));
  }
  return Err::kOk;
}

}  // namespace aviary::cli

namespace aviary::cli {

Args Tokenize(const std::string& line) {
  Args out;
  size_t i = 0, n = line.size();
  while (i < n) {
    while (i < n && std::isspace(static_cast<unsigned char>(line[i]))) i++;
    if (i >= n) break;
    char c = line[i];
    if (c == '"' || c == '\'') {
      size_t close = line.find(c, i + 1);
      if (close == std::string::npos) {
        i++;  // an unmatched quote is skipped, as zkCli's pattern does
        continue;
      }
      out.push_back(line.substr(i + 1, close - i - 1));
      i = close + 1;
      continue;
    }
    size_t start = i;
    while (i < n && !std::isspace(static_cast<unsigned char>(line[i]))) i++;
    out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool TakeFlag(Args* args, const std::string& flag) {
  bool found = false;
  for (auto it = args->begin(); it != args->end();) {
    if (*it == flag) {
      it = args->erase(it);
      found = true;
    } else {
      ++it;
    }
  }
  return found;
}

}  // namespace aviary::cli
